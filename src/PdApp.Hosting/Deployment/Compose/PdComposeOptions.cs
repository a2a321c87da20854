namespace PdApp.Hosting.Deployment.Compose;

/// <summary>Settings of the compose writer (<c>Pd:Compose</c>); everything else comes from the app model.</summary>
public sealed class PdComposeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Compose";

    /// <summary>The proxy's Dockerfile, relative to the repository root (the build context).</summary>
    public const string ProxyDockerfile = "src/PdApp.Proxy/Dockerfile";

    /// <summary>Seconds the proxy's stop grace period exceeds its drain, for the host to stop after the last stream.</summary>
    public const int StopGraceMarginSeconds = 10;

    /// <summary>
    /// <c>Pd:Compose:ProxyImage</c>: the proxy's image, default <see cref="DeploymentDefaults.ProxyImage"/> (a fixed
    /// tag, never <c>latest</c>). Compose builds it from <see cref="ProxyDockerfile"/> when
    /// <see cref="ProxySourceRoot"/> is known; otherwise build it with <c>dotnet publish src/PdApp.Proxy
    /// -t:PublishContainer -p:ContainerRepository=pdapp-proxy -p:ContainerImageTag=...</c>.
    /// </summary>
    public string ProxyImage { get; set; } = DeploymentDefaults.ProxyImage;

    /// <summary>
    /// <c>Pd:Compose:ProxySourceRoot</c>: the repository root holding <see cref="ProxyDockerfile"/>; the compose file's
    /// <c>build.context</c> is this folder relative to the output folder. The app host sets it to its own repository;
    /// an empty value leaves <c>build:</c> out (the image is then pulled).
    /// </summary>
    public string? ProxySourceRoot { get; set; }

    /// <summary>
    /// <c>Pd:Compose:Subnet</c>: the IPv4 subnet of the <c>pd</c> network, default <c>10.213.0.0/24</c>; used only when
    /// engines bind KV sockets to their own address (NIXL, LMCache), which then get fixed addresses from .10 on.
    /// Pick one no other network on the host uses.
    /// </summary>
    public string Subnet { get; set; } = "10.213.0.0/24";

    /// <summary>
    /// <c>Pd:Compose:ModelDownload</c>: a one-shot <c>model-download</c> service fetches a Hugging Face model into the
    /// persistent <c>hf-cache</c> volume before the engines start, default true.
    /// </summary>
    public bool ModelDownload { get; set; } = true;

    /// <summary><c>Pd:Compose:RestartPolicy</c>: every service's <c>restart:</c>, default <c>unless-stopped</c>.</summary>
    public string RestartPolicy { get; set; } = "unless-stopped";

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
            errors.Add($"{SectionName}:ProxyImage must name the proxy's image (e.g. {DeploymentDefaults.ProxyImage}).");
        }

        if (!System.Net.IPNetwork.TryParse(Subnet, out var subnet) || subnet.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || subnet.PrefixLength > 28)
        {
            errors.Add($"{SectionName}:Subnet must be an IPv4 network of at least 16 addresses such as 10.213.0.0/24, was '{Subnet}'.");
        }

        if (RestartPolicy is not ("no" or "always" or "on-failure" or "unless-stopped"))
        {
            errors.Add($"{SectionName}:RestartPolicy must be no, always, on-failure or unless-stopped, was '{RestartPolicy}'.");
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
