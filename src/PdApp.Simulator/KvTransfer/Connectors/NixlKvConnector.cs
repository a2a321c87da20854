using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Simulator.KvTransfer.Transport;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// vLLM's NixlConnector (vllm/distributed/kv_transfer/kv_connector/v1/nixl_connector.py). The role
/// comes from each request's <c>kv_transfer_params</c>, not from <c>kv_role</c>: a request with
/// <c>do_remote_decode: true</c> is prefilled here and its KV kept pinned for a decoder, the response
/// carrying <c>kv_transfer_params</c> that name this engine, the blocks and the side channel; a request
/// with <c>do_remote_prefill: true</c> pulls those blocks from the named side channel instead of
/// prefilling. Pinned KV is freed once read or after <c>VLLM_NIXL_ABORT_REQUEST_TIMEOUT</c> (480 s).
/// Params that are missing, malformed or name blocks that are gone give a miss: vLLM recomputes.
/// </summary>
internal sealed partial class NixlKvConnector : KvConnectorBase
{
    private readonly KvStore _pinned;
    private readonly KvTransportServer _sideChannel;
    private readonly string _sideChannelHost;
    private readonly int _configuredPort;
    private readonly ILogger _logger;
    private long _nextBlockId;
    private Timer? _sweeper;

    /// <summary>Creates the connector.</summary>
    public NixlKvConnector(KvConnectorContext context)
        : base(context)
    {
        _logger = context.Loggers.CreateLogger<NixlKvConnector>();
        _sideChannelHost = context.Environment.Get(KvConnectorEnvironment.NixlSideChannelHost) ?? "localhost";
        var port = context.Environment.Get(KvConnectorEnvironment.NixlSideChannelPort) ?? "5600";
        if (!int.TryParse(port, NumberStyles.Integer, CultureInfo.InvariantCulture, out _configuredPort) || _configuredPort is < 0 or > 65535)
        {
            throw new Configuration.SimulatorArgumentException(KvConnectorEnvironment.NixlSideChannelPort, $"invalid port '{port}'");
        }

        var timeout = context.Environment.Get("VLLM_NIXL_ABORT_REQUEST_TIMEOUT") ?? "480";
        if (!double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
        {
            throw new Configuration.SimulatorArgumentException("VLLM_NIXL_ABORT_REQUEST_TIMEOUT", $"invalid timeout '{timeout}'");
        }

        _pinned = new KvStore(context.Time, TimeSpan.FromSeconds(seconds));
        _sideChannel = new KvTransportServer("NIXL side channel", HandleAsync, _logger);
    }

    /// <inheritdoc />
    public override string Name => KvConnectorNames.Nixl;

    /// <summary>The side-channel port bound (the configured one, or the free one chosen for 0).</summary>
    public int SideChannelPort => _sideChannel.Port;

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _sideChannel.Start(_sideChannelHost, _configuredPort);
        _sweeper = new Timer(_ => _pinned.Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override bool ShouldConsume(KvRequest request) => request.HasParamFlag("do_remote_prefill");

    /// <inheritdoc />
    public override bool ShouldProduce(KvRequest request) => request.HasParamFlag("do_remote_decode");

    /// <inheritdoc />
    public override async Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken)
    {
        var kvParams = request.KvTransferParams!;
        var engineId = kvParams["remote_engine_id"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? kvParams["remote_engine_id"]!.GetValue<string>() : null;
        var host = kvParams["remote_host"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? kvParams["remote_host"]!.GetValue<string>() : null;
        var port = kvParams["remote_port"] is JsonValue portValue && portValue.TryGetValue<int>(out var p) ? p : (int?)null;
        var blocks = kvParams["remote_block_ids"] as JsonArray;
        if (engineId is null || host is null || port is null || blocks is null)
        {
            return KvConsumeResult.Miss("kv_transfer_params lack remote_engine_id, remote_host, remote_port or remote_block_ids");
        }

        var key = BlockKey(engineId, blocks);
        try
        {
            var reply = await KvTransportClient.SendAsync(host, port.Value, new KvMessage { Op = "get", Key = key, Sender = Context.Identity.Name }, cancellationToken).ConfigureAwait(false);
            return Verify(request, reply.Ok ? reply.Record : null, $"{host}:{port} engine {engineId}");
        }
        catch (IOException ex)
        {
            return KvConsumeResult.Miss(ex.Message);
        }
    }

    /// <inheritdoc />
    public override Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken)
    {
        var blockCount = (int)Context.Scheduler.BlocksFor(Math.Max(1, record.NumTokens));
        var first = Interlocked.Add(ref _nextBlockId, blockCount) - blockCount;
        var blockIds = new JsonArray();
        for (var i = 0; i < blockCount; i++)
        {
            blockIds.Add((first + i) % Math.Max(1, Context.Scheduler.TotalBlocks));
        }

        // Blocks stay allocated until the decoder reads them or the abort timeout frees them.
        var pin = Context.Scheduler.Pin(record.NumTokens);
        _pinned.Put(BlockKey(Context.Identity.EngineId, blockIds), record, pin.Dispose);

        // vLLM's NixlConnectorScheduler.request_finished returns these as the response's kv_transfer_params.
        var kvParams = new JsonObject
        {
            ["do_remote_prefill"] = true,
            ["do_remote_decode"] = false,
            ["remote_block_ids"] = blockIds,
            ["remote_engine_id"] = Context.Identity.EngineId,
            ["remote_request_id"] = request.RequestId,
            ["remote_host"] = _sideChannelHost,
            ["remote_port"] = _sideChannel.Port,
            ["tp_size"] = 1,
        };
        return Task.FromResult(KvProduceResult.Done(kvParams));
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }

        await _sideChannel.DisposeAsync().ConfigureAwait(false);
    }

    private ValueTask<KvMessage> HandleAsync(KvMessage message, CancellationToken cancellationToken)
    {
        if (message is not { Op: "get", Key: { } key })
        {
            return ValueTask.FromResult(new KvMessage { Ok = false, Error = $"unsupported op '{message.Op}'" });
        }

        // A read is the decoder's notification that the transfer is done: the blocks are freed.
        var record = _pinned.Get(key, take: true);
        LogPulled(key, record is not null, message.Sender);
        return ValueTask.FromResult(record is null
            ? new KvMessage { Ok = false, Error = "unknown or expired blocks" }
            : new KvMessage { Ok = true, Record = record });
    }

    /// <summary>The pinned KV's key: engine id and block ids, independent of how a proxy re-serialised the list.</summary>
    private static string BlockKey(string engineId, JsonArray blockIds) =>
        engineId + "/" + string.Join(',', blockIds.Select(id => id is JsonValue value && value.TryGetValue<long>(out var n) ? n.ToString(CultureInfo.InvariantCulture) : "?"));

    [LoggerMessage(Level = LogLevel.Debug, Message = "NIXL side channel read of {Key}: found {Found}, by {Reader}")]
    private partial void LogPulled(string key, bool found, string? reader);
}
