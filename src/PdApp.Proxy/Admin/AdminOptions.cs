namespace PdApp.Proxy.Admin;

/// <summary>The admin API's settings.</summary>
public sealed class AdminOptions
{
    /// <summary>
    /// <c>Pd:AdminApiKey</c>: the bearer token <c>/admin</c> requires. Unset or empty disables the
    /// admin API (every admin route answers 404): an unauthenticated endpoint that adds upstreams
    /// would let anyone who reaches the proxy redirect traffic, and "loopback only" is not a safe
    /// default behind a sidecar or ingress that connects from 127.0.0.1.
    /// </summary>
    public string? ApiKey { get; set; }
}
