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
}
