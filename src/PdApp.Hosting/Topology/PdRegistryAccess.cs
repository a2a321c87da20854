using System.Net;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Who may reach and use the proxy's P2pNccl registry, from the topology: where it binds
/// (<c>Pd:Registry:BindAddress</c>) and which announced addresses it accepts (<c>Pd:Registry:AllowedNetworks</c>).
/// </summary>
/// <remarks>
/// Per backend: simulators run on this machine and announce <c>127.0.0.1</c>, so the registry binds loopback and
/// accepts only loopback. Containers with host networking announce <c>Pd:HostAddress</c>, where the registry binds
/// (when it is an IP address). Containers on Aspire's network reach the proxy, a host process, through
/// <c>host.docker.internal</c>, whose address on the host (the network's gateway) is not known before the network
/// exists, so the registry binds every interface; each container announces its resource name
/// (<c>VLLM_HOST_IP=prefill-0</c>), and only those names are accepted. Set only for local runs: published
/// deployments' instances announce addresses the model cannot know (pod IPs), see the proxy's README.
/// </remarks>
internal sealed record PdRegistryAccess(string BindAddress, IReadOnlyList<string> AllowedHosts)
{
    /// <summary>The registry's access for <paramref name="plan"/>.</summary>
    public static PdRegistryAccess For(PdTopologyPlan plan)
    {
        var addresses = new PdAddresses(plan.Options, plan.Backend);
        var bind = plan.Backend switch
        {
            PdBackend.Simulator => "127.0.0.1",
            _ when plan.Options.HostNetwork && IPAddress.TryParse(plan.Options.HostAddress, out _) => plan.Options.HostAddress,
            _ => "*",
        };
        var allowed = plan.Instances.Select(i => addresses.PeerHost(i.Layout)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return new PdRegistryAccess(bind, allowed);
    }
}
