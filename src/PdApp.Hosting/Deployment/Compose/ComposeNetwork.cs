using System.Net;
using System.Net.Sockets;
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
/// When a bridge-networked engine binds a KV socket to its own address (<see cref="KvAddressRule"/>: NIXL's side
/// channel, P2pNccl's host IP), every bridge service joins the <see cref="NetworkName"/> network and each engine
/// gets a fixed IPv4 address from <see cref="PdComposeOptions.Subnet"/>: that address binds (a service name does
/// not) and is what peers connect to.
/// </summary>
internal sealed class ComposeNetwork
{
    /// <summary>The name containers use for the host (the app model uses it for the proxy's registry in bridge mode).</summary>
    public const string HostAlias = PdAddresses.ContainerHostAlias;

    /// <summary>The compose network bridge services join when engines need fixed addresses.</summary>
    public const string NetworkName = "pd";

    /// <summary>Host addresses of the subnet below this offset are left to Docker (the gateway takes the first).</summary>
    private const int FirstEngineHostOffset = 10;

    private readonly Dictionary<string, (bool HostNetwork, IReadOnlyList<DeploymentEndpoint> Endpoints)> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IPAddress> _fixedAddresses = new(StringComparer.Ordinal);

    public ComposeNetwork(DeploymentSnapshot snapshot, string subnet)
    {
        foreach (var engine in snapshot.Engines)
        {
            _services[engine.Name] = (engine.HostNetwork, engine.Endpoints);
        }

        GatewayHostNetwork = snapshot.Engines.Any(e => e.HostNetwork);
        _services[snapshot.Gateway.Name] = (GatewayHostNetwork, snapshot.Gateway.Endpoints);

        var bridgeEngines = snapshot.Engines.Where(e => !e.HostNetwork).ToList();
        if (bridgeEngines.Any(e => KvAddressRule.OwnBindVariables(e.Environment).Count > 0))
        {
            Subnet = IPNetwork.Parse(subnet);
            for (var i = 0; i < bridgeEngines.Count; i++)
            {
                _fixedAddresses[bridgeEngines[i].Name] = HostAddress(Subnet.Value, FirstEngineHostOffset + i);
            }
        }
    }

    /// <summary>The subnet of <see cref="NetworkName"/>, or null when no engine needs a fixed address.</summary>
    public IPNetwork? Subnet { get; }

    /// <summary>The fixed address of a bridge-networked engine, or null.</summary>
    public IPAddress? FixedAddress(string service) => _fixedAddresses.GetValueOrDefault(service);

    /// <summary>Whether <paramref name="hostNetwork"/> services join <see cref="NetworkName"/>.</summary>
    public bool Joins(bool hostNetwork) => Subnet is not null && !hostNetwork;

    /// <summary>
    /// The proxy joins the host network when any engine does: it must reach the engines at the host's ports and
    /// they must reach its P2pNccl registry at the host address the model gave them.
    /// </summary>
    public bool GatewayHostNetwork { get; }

    /// <summary>Renders <paramref name="value"/> for a service on the host network or a bridge; <c>$</c> is escaped from compose interpolation.</summary>
    public string Render(DeploymentValue value, bool fromHostNetwork) => value.Render(part => part switch
    {
        LiteralPart literal => literal.Text.Replace("$", "$$", StringComparison.Ordinal),
        ParameterPart parameter => Reference(parameter.Parameter),
        EndpointPart endpoint => RenderEndpoint(endpoint, fromHostNetwork),
        _ => throw new InvalidOperationException($"Unknown value part {part.GetType().Name}."),
    });

    /// <summary>
    /// The compose reference to a parameter's variable. Secrets (and parameters without a value) fail closed:
    /// <c>${VAR:?message}</c> stops <c>docker compose up</c> when <c>.env</c> leaves the variable unset or empty,
    /// instead of starting the engines with an empty key (auth silently off) or no token.
    /// </summary>
    public static string Reference(DeploymentParameter parameter)
    {
        var name = parameter.EnvironmentVariableName;
        return parameter.IsSecret || parameter.Value is null
            ? "${" + name + ":?set " + name + " in .env (Aspire parameter " + parameter.Name + ")}"
            : "${" + name + "}";
    }

    /// <summary>
    /// Renders one environment variable of <paramref name="engine"/>: a variable the engine binds to
    /// (<see cref="KvAddressUse.OwnBindAddress"/>) becomes its fixed address on a bridge network.
    /// </summary>
    public string RenderEngineVariable(DeploymentEngine engine, string key, DeploymentValue value) =>
        FixedAddress(engine.Name) is { } address && KvAddressRule.Classify(key, engine.Environment) == KvAddressUse.OwnBindAddress
            ? address.ToString()
            : Render(value, engine.HostNetwork);

    /// <summary>
    /// Replaces an engine's service name by its fixed address in the proxy's configured KV addresses
    /// (<c>Pd__Instances__{i}__KvAddress</c> = <c>prefill-0:21001</c>): a P2pNccl engine binds and registers its fixed
    /// address, and the proxy compares the registration with the configured address.
    /// </summary>
    public void UseFixedAddresses(Dictionary<string, string> gatewayEnvironment)
    {
        foreach (var (key, value) in gatewayEnvironment.ToList())
        {
            var colon = value.LastIndexOf(':');
            if (key.EndsWith(KvAddressSuffix, StringComparison.Ordinal) && colon > 0 && FixedAddress(value[..colon]) is { } address)
            {
                gatewayEnvironment[key] = address + value[colon..];
            }
        }
    }

    private const string KvAddressSuffix = "__KvAddress";

    private static IPAddress HostAddress(IPNetwork subnet, int offset)
    {
        if (subnet.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new InvalidOperationException($"{PdComposeOptions.SectionName}:Subnet must be an IPv4 network, was {subnet}.");
        }

        var hostBits = 32 - subnet.PrefixLength;
        if (hostBits < 31 && offset >= (1L << hostBits) - 1)
        {
            throw new InvalidOperationException(
                $"{PdComposeOptions.SectionName}:Subnet {subnet} is too small for the engines' fixed addresses (host .{offset} needed).");
        }

        var bytes = subnet.BaseAddress.GetAddressBytes();
        var value = ((uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3]) + (uint)offset;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }

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
