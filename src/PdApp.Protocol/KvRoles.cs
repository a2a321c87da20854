namespace PdApp.Protocol;

/// <summary>The <c>kv_role</c> values of vLLM's <c>KVTransferConfig</c>.</summary>
public static class KvRoles
{
    /// <summary>Computes the KV cache and sends it (prefill).</summary>
    public const string Producer = "kv_producer";

    /// <summary>Receives the KV cache and generates (decode).</summary>
    public const string Consumer = "kv_consumer";

    /// <summary>Both directions (NIXL deployments usually run both sides as <c>kv_both</c>).</summary>
    public const string Both = "kv_both";

    /// <summary>All values vLLM accepts.</summary>
    public static IReadOnlyList<string> All { get; } = [Producer, Consumer, Both];
}
