namespace PdApp.Protocol;

/// <summary>The part an engine instance plays in disaggregated serving.</summary>
public enum PdRole
{
    /// <summary>Computes the prompt's KV cache (<c>kv_producer</c>).</summary>
    Prefill,

    /// <summary>Receives the KV cache and generates tokens (<c>kv_consumer</c>).</summary>
    Decode,

    /// <summary>Either part (<c>kv_both</c>), e.g. NIXL deployments.</summary>
    Both,
}
