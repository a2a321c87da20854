namespace PdApp.Hosting.Deployment.Model;

/// <summary>The PD proxy project as the app model declares it: deployed from its container image.</summary>
public sealed record DeploymentGateway
{
    /// <summary>The resource name (<c>proxy</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The environment (the <c>Pd__*</c> settings and service-discovery references), in declaration order.</summary>
    public required IReadOnlyList<KeyValuePair<string, DeploymentValue>> Environment { get; init; }

    /// <summary>Endpoints: <c>http</c> and, for P2pNccl, the <c>registry</c> socket.</summary>
    public required IReadOnlyList<DeploymentEndpoint> Endpoints { get; init; }

    /// <summary>Name of the HTTP endpoint the probes use (<c>http</c>).</summary>
    public required string HttpEndpointName { get; init; }

    /// <summary>Readiness path (the service defaults' <c>/health</c>).</summary>
    public required string HealthPath { get; init; }

    /// <summary>
    /// Seconds the proxy drains in-flight requests on shutdown (<c>Pd:Proxy:ShutdownTimeoutSeconds</c> from its
    /// environment, else the proxy's default): stop grace periods must be longer.
    /// </summary>
    public int DrainSeconds { get; init; } = DeploymentDefaults.ProxyDrainSeconds;

    /// <summary>Liveness path (the service defaults' <c>/alive</c>).</summary>
    public required string AlivePath { get; init; }
}
