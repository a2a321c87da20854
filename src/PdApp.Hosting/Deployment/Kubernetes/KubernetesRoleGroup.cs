using System.Globalization;
using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// The engines of one PD role deployed as one workload: the role's first engine (the one on the role's base
/// port) is the pod template and the role's engine count its <c>replicas</c>. Every pod of a role has its own IP,
/// so the ports, GPU indices and advertised addresses that tell a role's engines apart on one host are not needed:
/// all pods listen on the base port, the device plugin picks their GPUs and each advertises its pod IP.
/// </summary>
/// <param name="Role">The role.</param>
/// <param name="Engines">The role's engines in the model, in declaration order (ordinal = index).</param>
/// <param name="IsStateful">
/// Whether pods need a stable identity (a StatefulSet): an engine whose <c>--kv-transfer-config</c> has a
/// <c>kv_rank</c> (PyNcclConnector) joins a fixed NCCL group at a fixed rank and address.
/// </param>
internal sealed record KubernetesRoleGroup(PdRole Role, IReadOnlyList<DeploymentEngine> Engines, bool IsStateful)
{
    /// <summary>The workload's and its headless Service's name (<c>prefill</c>, <c>decode</c>).</summary>
    public string Name => KubernetesWriter.RoleServiceName(Role);

    /// <summary>The pod template's engine.</summary>
    public DeploymentEngine Template => Engines[0];

    /// <summary>The number of pods.</summary>
    public int Replicas => Engines.Count;

    /// <summary>The port every pod of the role serves HTTP on.</summary>
    public int HttpPort => Template.HttpEndpoint.TargetPort;

    /// <summary>
    /// The in-cluster host name of the model's engine at <paramref name="ordinal"/>: for a StatefulSet the pod's
    /// stable name <c>prefill-0.prefill</c>; for a Deployment, whose pods are interchangeable, the role's Service.
    /// </summary>
    public string HostOf(int ordinal) =>
        IsStateful ? $"{Name}-{ordinal.ToString(CultureInfo.InvariantCulture)}.{Name}" : Name;

    /// <summary>Groups the snapshot's engines by role, checking that each role fits one pod template.</summary>
    /// <param name="snapshot">The app model's snapshot.</param>
    /// <returns>The groups, in the order roles first appear.</returns>
    /// <exception cref="InvalidOperationException">A role's engines cannot share one pod template.</exception>
    public static IReadOnlyList<KubernetesRoleGroup> From(DeploymentSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var groups = new List<KubernetesRoleGroup>();
        foreach (var byRole in snapshot.Engines.GroupBy(e => e.Role))
        {
            var engines = byRole.ToList();
            var name = KubernetesWriter.RoleServiceName(byRole.Key);
            if (engines.Select(e => e.Gpus.Count).Distinct().Count() > 1)
            {
                throw new InvalidOperationException(
                    $"The {name} engines need different numbers of GPUs ({string.Join(", ", engines.Select(e => $"{e.Name}: {e.Gpus.Count}"))}); " +
                    "in Kubernetes all pods of a role share one template, so give every instance of the role the same GPU count.");
            }

            var stateful = engines.Any(e => KubernetesKvTransferConfig.HasRank(e.Args));
            if (stateful && engines.Count > 1)
            {
                // kv_rank is fixed in each engine's command line, but a StatefulSet's pods share one template.
                throw new InvalidOperationException(
                    $"The {name} role has {engines.Count} engines with a fixed NCCL rank (kv_rank, PyNcclConnector); the Kubernetes " +
                    "writer deploys such a group as one pod per role (Pd:Prefill:Count=1, Pd:Decode:Count=1).");
            }

            groups.Add(new KubernetesRoleGroup(byRole.Key, engines, stateful));
        }

        return groups;
    }
}
