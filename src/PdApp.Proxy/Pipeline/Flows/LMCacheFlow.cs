using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Protocol.LMCache;
using PdApp.Proxy.Pipeline.Flows.LMCache;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline.Flows;

/// <summary>
/// LMCacheConnectorV1 with LMCache's PD backend (LMCache 0.3.x, examples/disagg_prefill/disagg_proxy_server.py):
/// decode is chosen first; prefill gets <c>kv_transfer_params.disagg_spec</c> naming that decode's receiver
/// (host, init and allocation port per rank) and a proxy-made <c>req_id</c>; the sender pushes the KV there and
/// notifies the proxy once per rank; decode is sent the client's body after every notification arrived (or
/// after <c>Pd:LMCache:KvReadyTimeoutSeconds</c>, when decode computes what is missing). Decode keeps the
/// first token to itself (the examples' "first token from decoder" variant), so the client's stream is decode's.
/// </summary>
public sealed class LMCacheFlow : DisaggregationFlow
{
    private readonly KvReadyNotifications _notifications;
    private readonly LMCacheOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the flow.</summary>
    /// <param name="connector">The configured connector.</param>
    /// <param name="notifications">The waits the notification socket releases.</param>
    /// <param name="options">The <c>Pd:LMCache</c> options.</param>
    /// <param name="time">The clock for the wait's timeout.</param>
    public LMCacheFlow(ResolvedConnector connector, KvReadyNotifications notifications, IOptions<LMCacheOptions> options, TimeProvider time)
        : base(connector)
    {
        ArgumentNullException.ThrowIfNull(notifications);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _notifications = notifications;
        _options = options.Value;
        _time = time;
    }

    /// <inheritdoc />
    public override string? ValidatePair(UpstreamInstance prefill, UpstreamInstance decode)
    {
        ArgumentNullException.ThrowIfNull(decode);
        return TryResolveReceiver(decode, out _, out _)
            ? null
            : $"Instance {decode.Name} has no LMCache receiver address (Pd:Instances:i:KvAddress must be host:port).";
    }

    /// <inheritdoc />
    public override KvHandoff BeginHandoff(UpstreamInstance? decode)
    {
        if (decode is null || !TryResolveReceiver(decode, out var host, out var initPort))
        {
            return KvHandoff.None;
        }

        var allocPort = decode.KvAllocPort ?? _options.AllocPort;
        var ranks = decode.KvRanks ?? _options.Ranks;
        var spec = new LMCacheDisaggSpec(
            Guid.NewGuid().ToString("N"), host, Enumerable.Range(initPort, ranks).ToArray(), Enumerable.Range(allocPort, ranks).ToArray());
        return new LMCacheHandoff(spec, _notifications.Register(spec.RequestId, spec.Ranks), TimeSpan.FromSeconds(_options.KvReadyTimeoutSeconds), _time);
    }

    // The receiver: the instance's own KV address and ports, else the configured ports at its HTTP host (a pod
    // found through DNS listens on the ports every pod of its role was given).
    private bool TryResolveReceiver(UpstreamInstance decode, out string host, out int initPort)
    {
        if (string.IsNullOrEmpty(decode.KvAddress))
        {
            (host, initPort) = (decode.BaseAddress.IdnHost, _options.InitPort);
            return true;
        }

        return HostPort.TryParse(decode.KvAddress, out host, out initPort);
    }

    private sealed class LMCacheHandoff(LMCacheDisaggSpec spec, KvReadyNotifications.Waiter waiter, TimeSpan timeout, TimeProvider time) : KvHandoff
    {
        public override void AddPrefillFields(JsonBodyRewriter rewriter)
        {
            ArgumentNullException.ThrowIfNull(rewriter);
            rewriter.Set(KvRequestFields.KvTransferParams, writer =>
            {
                writer.WriteStartObject();
                writer.WritePropertyName(LMCacheDisaggSpec.Key);
                spec.WriteTo(writer);
                writer.WriteEndObject();
            });
        }

        public override async ValueTask<KvReadiness> WaitForKvAsync(CancellationToken cancellationToken)
        {
            try
            {
                await waiter.Ready.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
                return KvReadiness.Ready;
            }
            catch (TimeoutException)
            {
                return KvReadiness.TimedOut;
            }
        }

        protected override void Dispose(bool disposing) => waiter.Dispose();
    }
}
