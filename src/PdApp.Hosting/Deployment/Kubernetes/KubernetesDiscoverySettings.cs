using System.Globalization;
using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// How the proxy finds the engines in a cluster. The model lists each instance (<c>Pd__Instances__{i}__*</c> and a
/// <c>services__{name}__*</c> reference); in a cluster the pods of a role come and go with its <c>replicas</c>,
/// so the list is replaced by DNS discovery of the role Services
/// (<c>Pd__Discovery__Dns__Prefill=prefill.{namespace}.svc</c>, <c>Pd__Discovery__Dns__PrefillPort</c>, ...),
/// re-resolved periodically. P2pNccl instances register with the proxy themselves (with their ZMQ address, which
/// DNS cannot give), so for them the registry is the discovery. KV event endpoints follow the same rule: the
/// model's per-instance <c>Pd__Proxy__KvCache__Endpoints__{name}__*</c> name single-host engines, so in a cluster the
/// proxy subscribes to every discovered pod at its IP on its role's event ports
/// (<c>Pd__Proxy__KvCache__Prefill__EventsPort</c>, <c>...__ReplayPort</c>), the ports of the role's pod template.
/// </summary>
internal static class KubernetesDiscoverySettings
{
    private static readonly string InstancesPrefix = PdProxySettings.ToEnvironmentVariable(PdProxySettings.Instances) + "__";
    private static readonly string RegistryPort = PdProxySettings.ToEnvironmentVariable(PdProxySettings.RegistryPort);
    private static readonly string KvEventsEndpointsPrefix = PdProxySettings.ToEnvironmentVariable(PdProxySettings.KvCacheEndpoints) + "__";

    /// <summary>The proxy's environment for the cluster.</summary>
    public static List<KeyValuePair<string, DeploymentValue>> Apply(
        IEnumerable<KeyValuePair<string, DeploymentValue>> environment,
        IReadOnlyList<KubernetesRoleGroup> roles,
        string @namespace)
    {
        // Both forms of Aspire's reference to each engine (services__prefill-0__http__0 and PREFILL_0_HTTP) name one
        // single-host instance; nothing reads them once the proxy discovers the role Services.
        var engineReferences = roles.SelectMany(g => g.Engines)
            .SelectMany(e => new[] { "services__" + e.Name + "__", e.Name.ToUpperInvariant().Replace('-', '_') + "_" })
            .ToList();
        var result = environment
            .Where(e => !e.Key.StartsWith(InstancesPrefix, StringComparison.Ordinal))
            .Where(e => !engineReferences.Any(prefix => e.Key.StartsWith(prefix, StringComparison.Ordinal)))
            .Where(e => !e.Key.StartsWith(KvEventsEndpointsPrefix, StringComparison.Ordinal))
            .ToList();
        AddKvEventPorts(result, roles);
        if (result.Any(e => e.Key == RegistryPort))
        {
            return result;
        }

        foreach (var group in roles)
        {
            var key = PdProxySettings.ToEnvironmentVariable($"{PdProxySettings.DnsDiscovery}:{group.Role}");
            result.Add(new(key, DeploymentValue.Literal($"{group.Name}.{@namespace}.svc")));
            result.Add(new(key + "Port", DeploymentValue.Literal(group.HttpPort.ToString(CultureInfo.InvariantCulture))));
        }

        return result;
    }

    private static void AddKvEventPorts(List<KeyValuePair<string, DeploymentValue>> environment, IReadOnlyList<KubernetesRoleGroup> roles)
    {
        foreach (var group in roles)
        {
            foreach (var (endpointName, key) in new[] { (VllmResource.KvEventsEndpointName, PdProxySettings.KvCacheEventsPort), (VllmResource.KvEventsReplayEndpointName, PdProxySettings.KvCacheReplayPort) })
            {
                if (group.Template.Endpoints.FirstOrDefault(e => e.Name == endpointName) is { } endpoint)
                {
                    var variable = PdProxySettings.ToEnvironmentVariable($"{PdProxySettings.KvCache}:{group.Role}:{key}");
                    environment.Add(new(variable, DeploymentValue.Literal(endpoint.TargetPort.ToString(CultureInfo.InvariantCulture))));
                }
            }
        }
    }
}
