using k8s.Models;
using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// The per-role HorizontalPodAutoscalers of <see cref="PdKubernetesOptions.Autoscaling"/>: <c>autoscaling/v2</c>,
/// targeting the role's Deployment, on the External metric <see cref="PdKubernetesAutoscalingOptions.MetricName"/>
/// selected by <c>role</c> (the proxy's in-flight requests to the role, summed over its instances by the
/// custom-metrics adapter) with an <c>averageValue</c> target, so the desired pod count is the role's in-flight
/// requests divided by <see cref="PdRoleAutoscalingOptions.TargetValue"/>. Roles whose pods have a fixed identity
/// cannot autoscale and are refused.
/// </summary>
internal sealed class KubernetesAutoscaling(PdKubernetesOptions options)
{
    /// <summary>The annotation saying where the HPA's metric comes from.</summary>
    public const string MetricSourceAnnotation = "pdapp.io/metric-source";

    /// <summary>The proxy's per-instance in-flight gauge as Prometheus names it on <c>/metrics</c> (labels <c>instance</c>, <c>role</c>).</summary>
    public const string SourceSeries = "pdapp_instance_requests_outstanding";

    /// <summary>The label of <see cref="SourceSeries"/> naming the role, by which the HPA selects.</summary>
    public const string RoleLabel = "role";

    private PdKubernetesAutoscalingOptions Settings => options.Autoscaling;

    /// <summary>Whether <paramref name="group"/> is autoscaled (then its workload leaves <c>replicas</c> to the HPA).</summary>
    public bool IsAutoscaled(KubernetesRoleGroup group) => Settings.For(group.Role).Enabled;

    /// <summary>Checks that every enabled role exists in the model and can scale.</summary>
    /// <param name="roles">The model's roles.</param>
    /// <exception cref="InvalidOperationException">A role cannot autoscale; the message names the setting and why.</exception>
    public void Validate(IReadOnlyList<KubernetesRoleGroup> roles)
    {
        var errors = new List<string>();
        foreach (var role in Enum.GetValues<PdRole>().Where(r => Settings.For(r).Enabled))
        {
            var setting = $"{PdKubernetesAutoscalingOptions.SectionOf(role)}:Enabled";
            if (roles.FirstOrDefault(g => g.Role == role) is not { } group)
            {
                errors.Add($"{setting} is true but the app model has no {role.ToConfigName()} engines.");
                continue;
            }

            var connectors = KubernetesKvTransferConfig.Connectors(group.Template.Args);
            if (group.IsStateful)
            {
                errors.Add(
                    $"{setting}: the {group.Name} role uses {KvConnectorNames.PyNccl}, whose pods hold fixed NCCL ranks (kv_rank, a StatefulSet " +
                    "with one pod per role); it cannot autoscale. Leave it off or use a connector whose pods are interchangeable (NixlConnector, SharedStorageConnector, P2pNcclConnector).");
            }
            else if (options.HostNetwork && group.Template.HostNetwork
                && (connectors.Contains(KvConnectorNames.P2pNccl) || (role == PdRole.Decode && connectors.Contains(KvConnectorNames.LMCacheV1))))
            {
                // LMCache receivers are named per request (disagg_spec) and so scale on the pod network, but on the
                // host's network every decode pod binds the same pd_peer ports.
                var connector = connectors.Contains(KvConnectorNames.P2pNccl) ? KvConnectorNames.P2pNccl : KvConnectorNames.LMCacheV1;
                var ports = connector == KvConnectorNames.P2pNccl ? "kv_port" : "pd_peer_init_port, pd_peer_alloc_port";
                errors.Add(
                    $"{setting}: with {PdKubernetesOptions.SectionName}:HostNetwork=true every {connector} pod of the {group.Name} role " +
                    $"binds the same host ports ({ports}), one pod per node; it cannot autoscale. Use the pod network (HostNetwork=false).");
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }
    }

    /// <summary>The HorizontalPodAutoscaler of <paramref name="group"/>'s Deployment, or null when the role is not autoscaled.</summary>
    /// <param name="group">The role.</param>
    /// <param name="metadata">The HPA's metadata (the workload's name and labels).</param>
    /// <returns>The HPA, or null.</returns>
    public V2HorizontalPodAutoscaler? For(KubernetesRoleGroup group, V1ObjectMeta metadata)
    {
        var settings = Settings.For(group.Role);
        if (!settings.Enabled)
        {
            return null;
        }

        var role = group.Role.ToConfigName();
        metadata.Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [MetricSourceAnnotation] =
                $"External metric {Settings.MetricName}{{{RoleLabel}=\"{role}\"}}: needs a custom-metrics adapter (prometheus-adapter) serving " +
                $"sum by (namespace, {RoleLabel}) ({SourceSeries}) scraped from the proxy's /metrics; see docs/deployment.md.",
        };
        return new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2",
            Kind = "HorizontalPodAutoscaler",
            Metadata = metadata,
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = group.Name },
                MinReplicas = settings.MinReplicas,
                MaxReplicas = settings.MaxReplicas,
                Metrics =
                [
                    new V2MetricSpec
                    {
                        Type = "External",
                        External = new V2ExternalMetricSource
                        {
                            Metric = new V2MetricIdentifier
                            {
                                Name = Settings.MetricName,
                                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string>(StringComparer.Ordinal) { [RoleLabel] = role } },
                            },
                            Target = new V2MetricTarget
                            {
                                Type = "AverageValue",
                                AverageValue = new ResourceQuantity(settings.TargetValue.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                            },
                        },
                    },
                ],
            },
        };
    }
}
