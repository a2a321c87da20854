using k8s.Models;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// The addresses an engine advertises to its peers. On one host the model gives each instance its container name
/// (or the host's address); in a cluster every replica of a role shares one pod template, so each pod advertises
/// its own IP from the downward API (<c>status.podIP</c>, which is the node's address under host networking).
/// </summary>
internal static class KubernetesPodAddresses
{
    /// <summary>
    /// Variables holding the engine's own address: P2pNccl's <c>VLLM_HOST_IP</c> (sent in its registration with
    /// the proxy and used by peers for ZMQ/NCCL, vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_engine.py)
    /// and NIXL's side-channel host (returned to the proxy in kv_transfer_params, nixl_connector.py).
    /// </summary>
    private static readonly HashSet<string> OwnAddressVariables = new(StringComparer.Ordinal) { KvConnectorEnvironment.HostIp, KvConnectorEnvironment.NixlSideChannelHost };

    private const string PodIpFieldPath = "status.podIP";

    /// <summary>Replaces the advertised addresses in <paramref name="environment"/> by the pod's own IP.</summary>
    public static void Apply(List<V1EnvVar> environment)
    {
        for (var i = 0; i < environment.Count; i++)
        {
            var name = environment[i].Name;
            if (OwnAddressVariables.Contains(name))
            {
                environment[i] = new V1EnvVar
                {
                    Name = name,
                    ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = PodIpFieldPath } },
                };
            }
        }
    }
}
