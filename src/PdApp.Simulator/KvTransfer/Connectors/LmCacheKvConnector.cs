using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Protocol.LMCache;
using PdApp.Simulator.KvTransfer.Transport;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// vLLM's LMCacheConnectorV1 with LMCache 0.3.x's PD backend (lmcache/v1/storage_backend/pd_backend.py): the
/// receiver (decode) binds its allocation socket at <c>pd_peer_host:pd_peer_alloc_port</c>; the sender (prefill)
/// pushes a request's KV, keyed by the prompt's tokens, to the receiver the request's
/// <c>kv_transfer_params.disagg_spec</c> names, then tells the proxy at <c>pd_proxy_host:pd_proxy_port</c>
/// (<see cref="LMCacheProxyNotification"/>, once per rank). A request without <c>disagg_spec</c> is local to the
/// sender: nothing moves. The receiver looks its prompt up, waiting up to <c>--kv-transfer-wait-timeout</c> for a
/// push in flight. Without <c>enable_pd</c> LMCache is a local cache: KV saved by one request is found by a later
/// one with the same prompt.
/// </summary>
internal sealed partial class LmCacheKvConnector : KvConnectorBase
{
    private readonly LmCacheSettings _settings;
    private readonly KvStore _cache;
    private readonly KvTransportServer? _receiver;
    private readonly LmCacheProxyNotifier? _notifier;
    private readonly ILogger _logger;

    /// <summary>Creates the connector.</summary>
    public LmCacheKvConnector(KvConnectorContext context)
        : base(context)
    {
        _logger = context.Loggers.CreateLogger<LmCacheKvConnector>();
        _settings = LmCacheSettings.Read(context.Environment);
        _cache = new KvStore(context.Time, TimeSpan.FromSeconds(480), capacity: 10_000);
        if (_settings.IsReceiver)
        {
            _receiver = new KvTransportServer("LMCache receiver", HandleAsync, _logger);
        }
        else if (_settings.IsSender)
        {
            _notifier = new LmCacheProxyNotifier(_settings.ProxyHost!, _settings.ProxyPort, _logger);
        }
    }

    /// <inheritdoc />
    public override string Name => KvConnectorNames.LMCacheV1;

    /// <summary>The allocation port bound (receiver), else 0.</summary>
    public int ReceiverPort => _receiver?.Port ?? 0;

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        LogSettings(_settings.Source, _settings.EnablePd, _settings.PdRole);
        _receiver?.Start(_settings.PeerHost!, _settings.PeerAllocPorts[0]);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override bool ShouldConsume(KvRequest request) => _settings.EnablePd ? _settings.IsReceiver : IsConsumerRole;

    /// <inheritdoc />
    public override bool ShouldProduce(KvRequest request) => _settings.EnablePd ? _settings.IsSender : IsProducerRole;

    /// <inheritdoc />
    public override async Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken)
    {
        var receiver = _settings.IsReceiver;
        var wait = receiver ? Context.TransferWait : TimeSpan.Zero;
        var record = await _cache.WaitAsync(request.PromptHash, take: receiver, wait, cancellationToken).ConfigureAwait(false);
        return Verify(request, record, receiver ? "the LMCache receiver buffer" : "the local LMCache");
    }

    /// <inheritdoc />
    public override async Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken)
    {
        if (!_settings.IsSender)
        {
            _cache.Put(request.PromptHash, record);
            return KvProduceResult.Done();
        }

        if (!LMCacheDisaggSpec.TryRead(request.KvTransferParams, out var spec, out var error))
        {
            return KvProduceResult.NotProduced(error ?? $"no kv_transfer_params.{LMCacheDisaggSpec.Key}: LMCache keeps the KV of a local request");
        }

        try
        {
            var reply = await KvTransportClient.SendAsync(
                spec!.ReceiverHost, spec.ReceiverAllocPorts[0], new KvMessage { Op = "put", Key = request.PromptHash, Record = record, Sender = Context.Identity.Name }, cancellationToken).ConfigureAwait(false);
            if (!reply.Ok)
            {
                return KvProduceResult.NotProduced(reply.Error ?? "receiver refused the KV");
            }
        }
        catch (IOException ex)
        {
            return KvProduceResult.NotProduced(ex.Message);
        }

        // As pd_backend.py: the proxy hears of the request once its last chunk was written, from every rank.
        _notifier!.Notify(spec.RequestId, spec.Ranks);
        return KvProduceResult.Done();
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        _notifier?.Dispose();
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync().ConfigureAwait(false);
        }
    }

    private ValueTask<KvMessage> HandleAsync(KvMessage message, CancellationToken cancellationToken)
    {
        if (message is { Op: "put", Key: { } key, Record: { } record })
        {
            _cache.Put(key, record);
            return ValueTask.FromResult(new KvMessage { Ok = true });
        }

        return ValueTask.FromResult(new KvMessage { Ok = false, Error = $"unsupported op '{message.Op}'" });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "LMCache from {Source}: enable_pd {EnablePd}, pd_role {Role}")]
    private partial void LogSettings(string source, bool enablePd, string? role);
}
