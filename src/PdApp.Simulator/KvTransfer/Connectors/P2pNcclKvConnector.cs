using System.Globalization;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Simulator.KvTransfer.Transport;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// vLLM's P2pNcclConnector (vllm/distributed/kv_transfer/kv_connector/v1/p2p/). Every instance listens
/// on its <c>kv_port</c> (vLLM: a ZMQ ROUTER at <c>VLLM_HOST_IP:kv_port</c>); peers are named by the
/// request id the proxy sends to both. With <c>send_type</c> PUT or PUT_ASYNC (default) the producer
/// pushes the KV to the decode address after prefill (PUT before answering, PUT_ASYNC in the
/// background); with GET it keeps the KV and the consumer pulls it from the prefill address. The
/// consumer keys by request id, waiting up to <c>--kv-transfer-wait-timeout</c> for a push in flight.
/// With <c>proxy_ip</c>/<c>proxy_port</c> it also registers with the proxy over ZeroMQ.
/// </summary>
internal sealed partial class P2pNcclKvConnector : KvConnectorBase
{
    private readonly KvStore _received;
    private readonly KvTransportServer _server;
    private readonly string _sendType;
    private readonly ILogger _logger;
    private P2pNcclProxyRegistration? _registration;

    /// <summary>Creates the connector.</summary>
    public P2pNcclKvConnector(KvConnectorContext context)
        : base(context)
    {
        _logger = context.Loggers.CreateLogger<P2pNcclKvConnector>();
        _sendType = (context.Extra(KvConnectorExtraConfigKeys.SendType) ?? "PUT_ASYNC").ToUpperInvariant();
        if (_sendType is not ("PUT" or "GET" or "PUT_ASYNC"))
        {
            throw new Configuration.SimulatorArgumentException(PdApp.Protocol.Vllm.VllmEngineArguments.KvTransferConfig.Name, $"kv_connector_extra_config.send_type must be PUT, GET or PUT_ASYNC, not '{_sendType}'");
        }

        _received = new KvStore(context.Time, TimeSpan.FromSeconds(480));
        _server = new KvTransportServer("P2pNccl", HandleAsync, _logger);
    }

    /// <inheritdoc />
    public override string Name => KvConnectorNames.P2pNccl;

    /// <summary>The KV port bound (kv_port, or a free port when it is 0).</summary>
    public int KvPort => _server.Port;

    /// <summary>This instance's KV address as peers and the proxy know it.</summary>
    public string ZmqAddress => $"{Context.AdvertisedIp}:{_server.Port}";

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _server.Start(Context.AdvertisedIp, Context.Config.KvPort ?? 14579);
        var proxyIp = Context.Extra(KvConnectorExtraConfigKeys.ProxyIp);
        var proxyPort = Context.Extra(KvConnectorExtraConfigKeys.ProxyPort);
        if (proxyIp is not null && proxyPort is not null)
        {
            if (!int.TryParse(proxyPort, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
            {
                throw new Configuration.SimulatorArgumentException(PdApp.Protocol.Vllm.VllmEngineArguments.KvTransferConfig.Name, $"kv_connector_extra_config.proxy_port must be a port, not '{proxyPort}'");
            }

            _registration = new P2pNcclProxyRegistration(
                $"tcp://{proxyIp}:{port}",
                // vLLM: "P" if is_kv_producer (kv_producer or kv_both) else "D".
                IsProducerRole ? PdRole.Prefill : PdRole.Decode,
                HttpAddress,
                () => ZmqAddress,
                Context.Environment.Get(PdApp.Protocol.P2pNccl.P2pNcclRegistrationMessage.SharedSecretVariable),
                Context.Loggers.CreateLogger<P2pNcclProxyRegistration>());
            _registration.Start();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken)
    {
        if (_sendType == "GET")
        {
            if (P2pNcclRequestId.Parse(request.RequestId) is not { } peers)
            {
                return KvConsumeResult.Miss("request id names no prefill_addr (X-Request-Id ___prefill_addr_..___decode_addr_.._uuid)");
            }

            try
            {
                var reply = await KvTransportClient.SendAsync(
                    peers.PrefillHost, peers.PrefillPort, new KvMessage { Op = "get", Key = request.RequestId, Sender = ZmqAddress }, cancellationToken).ConfigureAwait(false);
                return Verify(request, reply.Ok ? reply.Record : null, $"{peers.PrefillHost}:{peers.PrefillPort}");
            }
            catch (IOException ex)
            {
                return KvConsumeResult.Miss(ex.Message);
            }
        }

        var record = await _received.WaitAsync(request.RequestId, take: true, Context.TransferWait, cancellationToken).ConfigureAwait(false);
        return Verify(request, record, $"this instance's receive buffer (request id {request.RequestId})");
    }

    /// <inheritdoc />
    public override async Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken)
    {
        if (P2pNcclRequestId.Parse(request.RequestId) is not { } peers)
        {
            return KvProduceResult.NotProduced("request id names no decode_addr; the KV has nowhere to go");
        }

        if (_sendType == "GET")
        {
            _received.Put(request.RequestId, record);
            return KvProduceResult.Done();
        }

        var put = PushAsync(peers.DecodeHost, peers.DecodePort, request.RequestId, record);
        if (_sendType == "PUT")
        {
            var ok = await put.ConfigureAwait(false);
            return ok ? KvProduceResult.Done() : KvProduceResult.NotProduced($"PUT to {peers.DecodeHost}:{peers.DecodePort} failed");
        }

        // PUT_ASYNC: vLLM's send thread pushes while the response is already on its way.
        return KvProduceResult.Done();
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_registration is not null)
        {
            await _registration.DisposeAsync().ConfigureAwait(false);
        }

        await _server.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The advertised HTTP address: <c>http_port</c> from the extra config as vLLM requires it; the
    /// simulator falls back to the port it bound (null until Kestrel listens).
    /// </summary>
    private string? HttpAddress()
    {
        var port = Context.Extra(KvConnectorExtraConfigKeys.HttpPort) ?? (Context.Identity.HttpPort > 0 ? Context.Identity.HttpPort.ToString(CultureInfo.InvariantCulture) : null);
        return port is null ? null : $"{Context.AdvertisedIp}:{port}";
    }

    private async Task<bool> PushAsync(string host, int port, string key, KvRecord record)
    {
        try
        {
            // Not tied to the client's request: an abandoned prefill still sends, as vLLM's send queue does.
            var reply = await KvTransportClient.SendAsync(host, port, new KvMessage { Op = "put", Key = key, Record = record, Sender = ZmqAddress }, CancellationToken.None).ConfigureAwait(false);
            return reply.Ok;
        }
        catch (IOException ex)
        {
            LogPushFailed(key, host, port, ex.Message);
            return false;
        }
    }

    private ValueTask<KvMessage> HandleAsync(KvMessage message, CancellationToken cancellationToken)
    {
        switch (message)
        {
            case { Op: "put", Key: { } key, Record: { } record }:
                _received.Put(key, record);
                return ValueTask.FromResult(new KvMessage { Ok = true });
            case { Op: "get", Key: { } key }:
                var found = _received.Get(key, take: true);
                return ValueTask.FromResult(found is null ? new KvMessage { Ok = false, Error = "no KV for this request id" } : new KvMessage { Ok = true, Record = found });
            default:
                return ValueTask.FromResult(new KvMessage { Ok = false, Error = $"unsupported op '{message.Op}'" });
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "P2pNccl push of {RequestId} to {Host}:{Port} failed: {Error}")]
    private partial void LogPushFailed(string requestId, string host, int port, string error);
}
