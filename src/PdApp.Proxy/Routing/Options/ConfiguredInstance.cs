namespace PdApp.Proxy.Routing.Options;

/// <summary>One <c>Pd:Instances:{i}</c> entry, as the app host writes it.</summary>
public sealed class ConfiguredInstance
{
    /// <summary><c>Name</c>: unique instance name (the app host's resource name).</summary>
    public string? Name { get; set; }

    /// <summary><c>Role</c>: Prefill, Decode or Both (case-insensitive).</summary>
    public string? Role { get; set; }

    /// <summary>
    /// <c>Address</c>: the base URL, resolved through service discovery: <c>http://prefill-0</c>
    /// (Aspire's <c>services:prefill-0:http:0</c>) or a literal <c>http://127.0.0.1:8100</c>.
    /// </summary>
    public string? Address { get; set; }

    /// <summary><c>KvAddress</c>: the KV address <c>host:port</c> (P2pNccl ZMQ address), optional.</summary>
    public string? KvAddress { get; set; }

    /// <summary><c>KvAllocPort</c>: an LMCache receiver's <c>pd_peer_alloc_port</c> of rank 0, optional.</summary>
    public int? KvAllocPort { get; set; }

    /// <summary><c>KvRanks</c>: an LMCache receiver's tensor-parallel ranks (consecutive ports), optional.</summary>
    public int? KvRanks { get; set; }
}
