using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting.Deployment.Model;
using PdApp.Hosting.Topology;

namespace PdApp.Hosting.Deployment.Compose;

/// <summary>
/// How services of one compose project reach each other. Bridge-networked services use the service name and
/// the container port; a host-networked service listens on the host itself, so others reach it at
/// <c>127.0.0.1</c> (from the host network) or at <c>host.docker.internal</c> (from a bridge, which
/// <c>extra_hosts: host-gateway</c> maps to the host); a host-networked caller reaches bridge services through
/// their published ports on <c>127.0.0.1</c>.
/// </summary>
internal sealed class ComposeNetwork
{
    /// <summary>The name containers use for the host (the app model uses it for the proxy's registry in bridge mode).</summary>
    public const string HostAlias = PdAddresses.ContainerHostAlias;

    private readonly Dictionary<string, (bool HostNetwork, IReadOnlyList<DeploymentEndpoint> Endpoints)> _services = new(StringComparer.Ordinal);

    public ComposeNetwork(DeploymentSnapshot snapshot)
    {
        foreach (var engine in snapshot.Engines)
        {
            _services[engine.Name] = (engine.HostNetwork, engine.Endpoints);
        }

        GatewayHostNetwork = snapshot.Engines.Any(e => e.HostNetwork);
        _services[snapshot.Gateway.Name] = (GatewayHostNetwork, snapshot.Gateway.Endpoints);
    }

    /// <summary>
    /// The proxy joins the host network when any engine does: it must reach the engines at the host's ports and
    /// they must reach its P2pNccl registry at the host address the model gave them.
    /// </summary>
    public bool GatewayHostNetwork { get; }

    /// <summary>Renders <paramref name="value"/> for a service on the host network or a bridge; <c>$</c> is escaped from compose interpolation.</summary>
    public string Render(DeploymentValue value, bool fromHostNetwork) => value.Render(part => part switch
    {
        LiteralPart literal => literal.Text.Replace("$", "$$", StringComparison.Ordinal),
        ParameterPart parameter => "${" + parameter.Parameter.EnvironmentVariableName + "}",
        EndpointPart endpoint => RenderEndpoint(endpoint, fromHostNetwork),
        _ => throw new InvalidOperationException($"Unknown value part {part.GetType().Name}."),
    });

    private string RenderEndpoint(EndpointPart part, bool fromHostNetwork)
    {
        if (!_services.TryGetValue(part.ResourceName, out var target))
        {
            throw new InvalidOperationException($"A value refers to endpoint '{part.EndpointName}' of '{part.ResourceName}', which is not deployed.");
        }

        var endpoint = target.Endpoints.FirstOrDefault(e => e.Name == part.EndpointName)
            ?? throw new InvalidOperationException($"'{part.ResourceName}' has no endpoint '{part.EndpointName}'.");
        var (host, port) = (target.HostNetwork, fromHostNetwork) switch
        {
            (true, true) => ("127.0.0.1", endpoint.TargetPort),
            (true, false) => (HostAlias, endpoint.TargetPort),
            (false, true) => ("127.0.0.1", endpoint.Port),
            (false, false) => (part.ResourceName, endpoint.TargetPort),
        };

        return part.Property switch
        {
            EndpointProperty.Url => $"{endpoint.Scheme}://{host}:{port}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => host,
            EndpointProperty.Port => port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            EndpointProperty.TargetPort => endpoint.TargetPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            EndpointProperty.HostAndPort => $"{host}:{port}",
            EndpointProperty.Scheme => endpoint.Scheme,
            _ => throw new InvalidOperationException($"Endpoint property {part.Property} of '{part.ResourceName}' has no compose equivalent."),
        };
    }
}
