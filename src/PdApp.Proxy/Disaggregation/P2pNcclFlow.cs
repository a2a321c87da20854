using PdApp.Protocol.Connectors;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Disaggregation;

/// <summary>
/// P2pNcclConnector: P and D learn each other from the request id, identical on both
/// (vLLM examples/online_serving/disaggregated_serving_p2p_nccl_xpyd/disagg_proxy_p2p_nccl_xpyd.py):
/// <c>___prefill_addr_&lt;P kv addr&gt;___decode_addr_&lt;D kv addr&gt;_&lt;32 hex&gt;</c>. P pushes the KV
/// to that D, so D is chosen first and a decode is never moved to another D.
/// </summary>
public sealed class P2pNcclFlow(ResolvedConnector connector) : DisaggregationFlow(connector)
{
    /// <inheritdoc />
    public override string? ValidatePair(UpstreamInstance prefill, UpstreamInstance decode)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(decode);
        return string.IsNullOrEmpty(prefill.KvAddress) ? $"Instance {prefill.Name} has no KV address (Pd:Instances:i:KvAddress or its registration)."
            : string.IsNullOrEmpty(decode.KvAddress) ? $"Instance {decode.Name} has no KV address (Pd:Instances:i:KvAddress or its registration)."
            : null;
    }

    /// <inheritdoc />
    public override string CreateUpstreamRequestId(string requestId, UpstreamInstance? prefill, UpstreamInstance? decode)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(decode);
        return $"___prefill_addr_{prefill.KvAddress}___decode_addr_{decode.KvAddress}_{Guid.NewGuid():N}";
    }
}
