using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Simulator.KvTransfer.Transport;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// vLLM's LMCacheConnectorV1 with LMCache's PD mode: the sender (prefill) pushes each prompt's KV,
/// keyed by the prompt's token hash, to the receiver at <c>nixl_receiver_host:nixl_receiver_port</c>
/// right after prefill; the receiver (decode) listens there and looks its prompt up, waiting up to
/// <c>--kv-transfer-wait-timeout</c> for a push in flight. Without <c>enable_nixl</c> LMCache is a
/// local cache: KV saved by one request is found by a later one with the same prompt.
/// </summary>
internal sealed partial class LmCacheKvConnector : KvConnectorBase
{
    private readonly LmCacheSettings _settings;
    private readonly KvStore _cache;
    private readonly KvTransportServer? _receiver;
    private readonly ILogger _logger;

    /// <summary>Creates the connector.</summary>
    public LmCacheKvConnector(KvConnectorContext context)
        : base(context)
    {
        _logger = context.Loggers.CreateLogger<LmCacheKvConnector>();
        _settings = LmCacheSettings.Read(context.Environment);
        _cache = new KvStore(context.Time, TimeSpan.FromSeconds(480), capacity: 10_000);
        if (IsReceiver)
        {
            _receiver = new KvTransportServer("LMCache receiver", HandleAsync, _logger);
        }
    }

    /// <inheritdoc />
    public override string Name => KvConnectorNames.LMCacheV1;

    /// <summary>The receiver port bound (decode side).</summary>
    public int ReceiverPort => _receiver?.Port ?? _settings.ReceiverPort;

    private bool IsSender => _settings.EnableNixl && _settings.NixlRole == "sender";

    private bool IsReceiver => _settings.EnableNixl && _settings.NixlRole == "receiver";

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        LogSettings(_settings.Source, _settings.EnableNixl, _settings.NixlRole, _settings.ReceiverHost, _settings.ReceiverPort);
        _receiver?.Start(_settings.ReceiverHost, _settings.ReceiverPort);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override bool ShouldConsume(KvRequest request) => _settings.EnableNixl ? IsReceiver : IsConsumerRole;

    /// <inheritdoc />
    public override bool ShouldProduce(KvRequest request) => _settings.EnableNixl ? IsSender : IsProducerRole;

    /// <inheritdoc />
    public override async Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken)
    {
        var wait = IsReceiver ? Context.TransferWait : TimeSpan.Zero;
        var record = await _cache.WaitAsync(request.PromptHash, take: IsReceiver, wait, cancellationToken).ConfigureAwait(false);
        return Verify(request, record, IsReceiver ? "the LMCache receiver buffer" : "the local LMCache");
    }

    /// <inheritdoc />
    public override async Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken)
    {
        if (!IsSender)
        {
            _cache.Put(request.PromptHash, record);
            return KvProduceResult.Done();
        }

        try
        {
            var reply = await KvTransportClient.SendAsync(
                _settings.ReceiverHost, _settings.ReceiverPort, new KvMessage { Op = "put", Key = request.PromptHash, Record = record, Sender = Context.Identity.Name }, cancellationToken).ConfigureAwait(false);
            return reply.Ok ? KvProduceResult.Done() : KvProduceResult.NotProduced(reply.Error ?? "receiver refused the KV");
        }
        catch (IOException ex)
        {
            return KvProduceResult.NotProduced(ex.Message);
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
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

    [LoggerMessage(Level = LogLevel.Information, Message = "LMCache from {Source}: enable_nixl {EnableNixl}, nixl_role {Role}, receiver {Host}:{Port}")]
    private partial void LogSettings(string source, bool enableNixl, string? role, string host, int port);
}
