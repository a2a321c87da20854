namespace PdApp.Hosting.Deployment.Compose;

/// <summary>Settings of the compose writer (<c>Pd:Compose</c>); everything else comes from the app model.</summary>
public sealed class PdComposeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Compose";

    /// <summary>
    /// <c>Pd:Compose:ProxyImage</c>: the proxy's image, built by
    /// <c>dotnet publish src/PdApp.Proxy -t:PublishContainer -p:ContainerRepository=pdapp-proxy</c> (tag <c>latest</c>).
    /// </summary>
    public string ProxyImage { get; set; } = "pdapp-proxy:latest";

    /// <summary>
    /// <c>Pd:Compose:HealthCheckStartPeriodSeconds</c>: grace time before failed health checks count, default 600:
    /// vLLM answers <c>/health</c> only once the model is loaded and CUDA graphs are captured, minutes for a 7B model.
    /// </summary>
    public int HealthCheckStartPeriodSeconds { get; set; } = 600;

    /// <summary><c>Pd:Compose:HealthCheckIntervalSeconds</c>: time between health checks, default 10.</summary>
    public int HealthCheckIntervalSeconds { get; set; } = 10;

    /// <summary>Checks the settings.</summary>
    /// <returns>One message per invalid setting, naming it; empty when valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ProxyImage))
        {
            errors.Add($"{SectionName}:ProxyImage must name the proxy's image (e.g. pdapp-proxy:latest).");
        }

        if (HealthCheckStartPeriodSeconds < 0)
        {
            errors.Add($"{SectionName}:HealthCheckStartPeriodSeconds must not be negative (was {HealthCheckStartPeriodSeconds}).");
        }

        if (HealthCheckIntervalSeconds < 1)
        {
            errors.Add($"{SectionName}:HealthCheckIntervalSeconds must be at least 1 (was {HealthCheckIntervalSeconds}).");
        }

        return errors;
    }
}
