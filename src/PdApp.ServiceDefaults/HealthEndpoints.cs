namespace Microsoft.Extensions.Hosting;

/// <summary>Paths and tags of the health endpoints every PdApp service exposes.</summary>
public static class HealthEndpoints
{
    /// <summary>Readiness: every registered check must pass (for the proxy: PD-aware instance health).</summary>
    public const string HealthPath = "/health";

    /// <summary>Liveness: only checks tagged <see cref="LiveTag"/> run, so a process that is up answers.</summary>
    public const string AlivePath = "/alive";

    /// <summary>Tag of the checks that make up liveness.</summary>
    public const string LiveTag = "live";

    /// <summary>Prometheus scrape path for users without an OTLP collector.</summary>
    public const string MetricsPath = "/metrics";
}
