using PdApp.Protocol;

namespace PdApp.Proxy.Security;

/// <summary>The proxy's own keys, bound once from the <c>Pd</c> section.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>
    /// <c>Pd:ApiKey</c>: when set, clients must send <c>Authorization: Bearer &lt;key&gt;</c> on
    /// <c>/v1</c> routes, as vLLM's <c>--api-key</c> does (health and metrics stay open for probes).
    /// Instances get <c>Pd:UpstreamApiKey</c> instead.
    /// </summary>
    public string? ClientKey { get; set; }

    /// <summary>
    /// <c>Pd:AdminApiKey</c>: the bearer token <c>/admin</c> requires. Unset or empty disables the
    /// admin API (every admin route answers 404): an unauthenticated endpoint that adds upstreams
    /// would let anyone who reaches the proxy redirect traffic, and "loopback only" is not a safe
    /// default behind a sidecar or ingress that connects from 127.0.0.1.
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// <c>Pd:MetricsAccess</c>: who may read <c>/metrics</c> (it lists every instance and its
    /// traffic). Default <see cref="MetricsAccess.Auto"/>.
    /// </summary>
    public MetricsAccess MetricsAccess { get; set; }

    internal static void Bind(ApiKeyOptions options, IConfiguration configuration)
    {
        options.ClientKey = configuration[PdProxySettings.ApiKey];
        options.AdminKey = configuration[PdProxySettings.AdminApiKey];

        // A value that is no MetricsAccess fails start-up with a message naming the key.
        options.MetricsAccess = configuration.GetValue<MetricsAccess?>(PdProxySettings.MetricsAccess) ?? MetricsAccess.Auto;
    }
}

/// <summary>Who may read the proxy's <c>/metrics</c>.</summary>
public enum MetricsAccess
{
    /// <summary>Open while neither <c>Pd:ApiKey</c> nor <c>Pd:AdminApiKey</c> is set; otherwise as <see cref="Key"/>.</summary>
    Auto,

    /// <summary>Always open (a scraper on a trusted network), as vLLM's <c>/metrics</c> is.</summary>
    Open,

    /// <summary>The admin key is required; the client key is accepted only while no admin key is configured.</summary>
    Key,
}
