using System.Globalization;
using k8s.Models;
using PdApp.Hosting.Containers;
using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// What a production GPU cluster expects on the pods beyond the app model (requests and limits, GPU node
/// selection and taint toleration, security contexts, pull secrets, Prometheus annotations) and the objects around
/// them (PodDisruptionBudgets, an Ingress), all from <c>Pd:Kubernetes:*</c>.
/// </summary>
internal sealed class KubernetesPodSettings(PdKubernetesOptions options)
{
    /// <summary>The device plugin's resource name for <paramref name="vendor"/>'s GPUs, which GPU node pools also use as their taint key.</summary>
    public static string GpuResourceName(GpuVendor vendor) =>
        vendor == GpuVendor.Amd ? KubernetesWriter.AmdGpuResourceName : KubernetesWriter.GpuResourceName;

    private const string HostnameTopologyKey = "kubernetes.io/hostname";

    /// <summary>
    /// CPU and memory for an engine, with its GPUs as limits (the device plugin's resource, <c>nvidia.com/gpu</c> or
    /// <c>amd.com/gpu</c>, needs no request).
    /// </summary>
    public V1ResourceRequirements EngineResources(DeploymentGpus gpus)
    {
        var limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(options.EngineMemoryLimit) };
        if (gpus.Count > 0)
        {
            limits[GpuResourceName(gpus.Vendor)] = new ResourceQuantity(gpus.Count.ToString(CultureInfo.InvariantCulture));
        }

        return new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.EngineCpu), ["memory"] = new(options.EngineMemory) },
            Limits = limits,
        };
    }

    /// <summary>CPU and memory for the proxy.</summary>
    public V1ResourceRequirements ProxyResources() => new()
    {
        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(options.ProxyCpu), ["memory"] = new(options.ProxyMemory) },
        Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(options.ProxyMemoryLimit) },
    };

    /// <summary>
    /// An engine's container security: never privileged (a privileged container sees every GPU of the node, so two
    /// pods would share GPU 0); the model's capabilities (PyNccl's SYS_PTRACE for CUDA IPC between processes) are
    /// kept; no privilege escalation; the runtime's default seccomp profile.
    /// </summary>
    public static V1SecurityContext EngineSecurity(DeploymentEngine engine) => new()
    {
        AllowPrivilegeEscalation = false,
        Capabilities = engine.Capabilities.Count > 0 ? new V1Capabilities { Add = [.. engine.Capabilities] } : null,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    /// <summary>The proxy's container security: the .NET image's non-root user, no capabilities.</summary>
    public static V1SecurityContext ProxySecurity() => new()
    {
        RunAsNonRoot = true,
        AllowPrivilegeEscalation = false,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    /// <summary>Applies node selection, tolerations, pull secrets and affinity to an engine pod.</summary>
    /// <param name="pod">The pod spec.</param>
    /// <param name="group">The pod's role.</param>
    /// <param name="hostNetwork">Whether the pod uses the node's network (then pods of a role cannot share a node).</param>
    /// <param name="colocate">Whether every engine pod must run on one node (a volume only one node can mount, or SharedStorage on a node folder).</param>
    public void ApplyToEngine(V1PodSpec pod, KubernetesRoleGroup group, bool hostNetwork, bool colocate)
    {
        pod.NodeSelector = options.NodeSelector.Count > 0 ? new Dictionary<string, string>(options.NodeSelector, StringComparer.Ordinal) : null;
        pod.Tolerations = options.TolerateGpuTaint && group.Template.Gpus.Count > 0
            ? [new V1Toleration { Key = GpuResourceName(group.Template.Gpus.Vendor), OperatorProperty = "Exists", Effect = "NoSchedule" }]
            : null;
        pod.ImagePullSecrets = PullSecrets();

        V1PodAffinity? affinity = null;
        if (colocate)
        {
            // The first engine pod matches its own term, so it schedules anywhere; the others follow it.
            affinity = new V1PodAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution =
                [
                    new V1PodAffinityTerm
                    {
                        LabelSelector = new V1LabelSelector { MatchLabels = KubernetesLabels.EngineSelector() },
                        TopologyKey = HostnameTopologyKey,
                    },
                ],
            };
        }

        V1PodAntiAffinity? antiAffinity = null;
        if (hostNetwork)
        {
            // Every pod of the role binds the same host ports (HTTP, kv_port): one per node.
            antiAffinity = new V1PodAntiAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution =
                [
                    new V1PodAffinityTerm
                    {
                        LabelSelector = new V1LabelSelector { MatchLabels = KubernetesLabels.RoleSelector(group.Role.ToConfigName()) },
                        TopologyKey = HostnameTopologyKey,
                    },
                ],
            };
        }

        pod.Affinity = affinity is null && antiAffinity is null ? null : new V1Affinity { PodAffinity = affinity, PodAntiAffinity = antiAffinity };
    }

    /// <summary>The pull secrets, or null.</summary>
    public List<V1LocalObjectReference>? PullSecrets() =>
        options.ImagePullSecrets.Count > 0 ? [.. options.ImagePullSecrets.Select(n => new V1LocalObjectReference { Name = n })] : null;

    /// <summary>Prometheus scrape annotations for a pod serving <c>/metrics</c> on <paramref name="port"/>, or null.</summary>
    public Dictionary<string, string>? ScrapeAnnotations(int port) => options.PrometheusAnnotations
        ? new(StringComparer.Ordinal)
        {
            ["prometheus.io/scrape"] = "true",
            ["prometheus.io/port"] = port.ToString(CultureInfo.InvariantCulture),
            ["prometheus.io/path"] = "/metrics",
        }
        : null;

    /// <summary>A PodDisruptionBudget letting voluntary disruptions (node drains) take one pod of the workload at a time.</summary>
    public static V1PodDisruptionBudget DisruptionBudget(V1ObjectMeta metadata, Dictionary<string, string> selector) => new()
    {
        ApiVersion = "policy/v1",
        Kind = "PodDisruptionBudget",
        Metadata = metadata,
        Spec = new V1PodDisruptionBudgetSpec
        {
            MaxUnavailable = 1,
            Selector = new V1LabelSelector { MatchLabels = selector },
        },
    };

    /// <summary>The Ingress routing <see cref="PdKubernetesOptions.IngressHost"/> to the proxy, or null.</summary>
    public V1Ingress? Ingress(V1ObjectMeta metadata, string service, int port)
    {
        if (options.IngressHost is not { } host)
        {
            return null;
        }

        // Token streams: no response buffering and long read timeouts (ingress-nginx annotations; others ignore them).
        metadata.Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["nginx.ingress.kubernetes.io/proxy-buffering"] = "off",
            ["nginx.ingress.kubernetes.io/proxy-read-timeout"] = "3600",
            ["nginx.ingress.kubernetes.io/proxy-send-timeout"] = "3600",
        };
        return new V1Ingress
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "Ingress",
            Metadata = metadata,
            Spec = new V1IngressSpec
            {
                IngressClassName = options.IngressClassName,
                Rules =
                [
                    new V1IngressRule
                    {
                        Host = host,
                        Http = new V1HTTPIngressRuleValue
                        {
                            Paths =
                            [
                                new V1HTTPIngressPath
                                {
                                    Path = "/",
                                    PathType = "Prefix",
                                    Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = service, Port = new V1ServiceBackendPort { Number = port } } },
                                },
                            ],
                        },
                    },
                ],
            },
        };
    }
}
