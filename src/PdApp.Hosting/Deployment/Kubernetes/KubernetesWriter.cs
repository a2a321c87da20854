using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using PdApp.Hosting.Containers;
using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// Writes Kubernetes manifests (one multi-document file, <see cref="ManifestFileName"/>) for a cluster with
/// the NVIDIA device plugin. Per PD role one workload whose <c>replicas</c> is the role's instance count and a
/// headless Service over its pods (<see cref="RoleServiceName"/>): a Deployment when the role's pods are
/// interchangeable (SharedStorage, LMCache, Nixl, P2pNccl), a StatefulSet when they need a stable identity
/// (PyNccl's fixed NCCL ranks). Every pod has an <c>nvidia.com/gpu</c> limit, the model's arguments and
/// environment (from the role's first instance, which listens on the role's base port), startup/readiness/liveness
/// probes on <c>/health</c>, an in-memory <c>/dev/shm</c> and the data volume. The proxy discovers the pods from the
/// role Services' DNS (P2pNccl instances register with it instead), so <c>kubectl scale deployment/prefill</c>
/// needs no proxy restart. With <c>Pd:Kubernetes:Autoscaling:*</c> a role also gets a HorizontalPodAutoscaler on the
/// proxy's in-flight requests to it (<see cref="KubernetesAutoscaling"/>). Secrets are referenced (<c>secretKeyRef</c>), never written.
/// </summary>
/// <param name="options">The writer's settings.</param>
/// <param name="logger">Logs what was written.</param>
public sealed class KubernetesWriter(PdKubernetesOptions options, ILogger<KubernetesWriter> logger) : IDeploymentWriter
{
    private readonly KubernetesPodSettings _pods = new(options);
    private readonly KubernetesAutoscaling _autoscaling = new(options);

    /// <summary>The publisher name.</summary>
    public const string PublisherName = "kubernetes";

    /// <summary>The manifest file's name.</summary>
    public const string ManifestFileName = "pdapp.yaml";

    /// <summary>The resource name of NVIDIA GPUs (NVIDIA device plugin).</summary>
    public const string GpuResourceName = "nvidia.com/gpu";

    /// <summary>The resource name of AMD GPUs (ROCm device plugin).</summary>
    public const string AmdGpuResourceName = "amd.com/gpu";

    private const string EngineContainerName = "vllm";
    private const string ShmVolumeName = "dshm";
    private const int ProbePeriodSeconds = 10;
    private const int GracePeriodMarginSeconds = 10;

    /// <inheritdoc/>
    public string Name => PublisherName;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> WriteAsync(DeploymentSnapshot snapshot, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        var objects = Build(snapshot);
        Directory.CreateDirectory(outputDirectory);
        var path = Path.Combine(outputDirectory, ManifestFileName);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Generated from the PdApp app model (--publisher kubernetes). Create the Secret '{options.SecretName}' first (see docs/deployment.md).\n");
        foreach (var item in objects)
        {
            text.Append("---\n").Append(KubernetesYaml.Serialize(item));
            if (text[^1] != '\n')
            {
                text.Append('\n');
            }
        }

        await File.WriteAllTextAsync(path, text.ToString(), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Wrote {File}: {Count} objects in namespace {Namespace}", path, objects.Count, options.Namespace);
        return [path];
    }

    /// <summary>Builds the objects, in apply order.</summary>
    /// <param name="snapshot">What the app model declares.</param>
    /// <returns>The objects.</returns>
    public IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Build(DeploymentSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var roles = KubernetesRoleGroup.From(snapshot);
        _autoscaling.Validate(roles);
        var values = new KubernetesValues(snapshot, roles, options);
        var objects = new List<IKubernetesObject<V1ObjectMeta>>();
        if (options.CreateNamespace)
        {
            objects.Add(new V1Namespace
            {
                ApiVersion = "v1",
                Kind = "Namespace",
                Metadata = new V1ObjectMeta { Name = options.Namespace, Labels = new Dictionary<string, string> { [KubernetesLabels.PartOf] = DeploymentSnapshot.ApplicationName } },
            });
        }

        var storage = new KubernetesModelStorage(options);
        if (storage.Claim(name => Metadata(name, KubernetesLabels.For(KubernetesLabels.EngineName, name, "models", role: null))) is { } claim)
        {
            objects.Add(claim);
        }

        var rendezvousHost = RendezvousHost(roles);
        foreach (var group in roles)
        {
            objects.Add(BuildRoleService(group));
            var template = BuildPodTemplate(group, roles, values, rendezvousHost, storage, Colocate(snapshot, storage));
            objects.Add(group.IsStateful ? BuildStatefulSet(group, template) : BuildDeployment(group, template));
            objects.Add(KubernetesPodSettings.DisruptionBudget(Metadata(group.Name, RoleLabels(group)), KubernetesLabels.Selector(group.Name)));
            if (_autoscaling.For(group, Metadata(group.Name, RoleLabels(group))) is { } autoscaler)
            {
                objects.Add(autoscaler);
            }
        }

        var (configMap, deployment, service) = BuildGateway(snapshot, roles, values);
        objects.Add(configMap);
        objects.Add(deployment);
        objects.Add(service);
        objects.Add(KubernetesPodSettings.DisruptionBudget(Metadata(deployment.Metadata.Name, new(deployment.Metadata.Labels)), KubernetesLabels.Selector(deployment.Metadata.Name)));
        var http = snapshot.Gateway.Endpoints.First(e => e.Name == snapshot.Gateway.HttpEndpointName);
        if (_pods.Ingress(Metadata(snapshot.Gateway.Name, new(deployment.Metadata.Labels)), snapshot.Gateway.Name, http.Port) is { } ingress)
        {
            objects.Add(ingress);
        }

        return objects;
    }

    /// <summary>
    /// The name of <paramref name="role"/>'s workload and of the headless Service over its pods (<c>prefill</c>,
    /// <c>decode</c>): <c>kubectl scale deployment/prefill --replicas=4</c>.
    /// </summary>
    /// <param name="role">The role.</param>
    /// <returns>The Service name.</returns>
    public static string RoleServiceName(PdRole role) => role.ToConfigName();

    /// <summary>
    /// Whether every engine pod must run on one node: the model volume cannot be shared across nodes (a
    /// ReadWriteOnce claim), or SharedStorageConnector's KV files are on a node folder, where a decode on another
    /// node would never find the prefill's files and silently recompute every prompt.
    /// </summary>
    private bool Colocate(DeploymentSnapshot snapshot, KubernetesModelStorage storage)
    {
        if (storage.CreatesClaim)
        {
            return !storage.IsSharedAcrossNodes;
        }

        var onNodeFolder = options.ModelVolume is { } setting && KubernetesModelVolume.TryParse(setting, out var volume) && volume.HostPath is not null;
        return onNodeFolder && snapshot.Engines.Any(e => e.Args.Any(a => a.ToString().Contains(SharedStorageConnectorName, StringComparison.Ordinal)));
    }

    private const string SharedStorageConnectorName = "\"SharedStorageConnector\"";

    private V1ObjectMeta Metadata(string name, Dictionary<string, string> labels) =>
        new() { Name = name, NamespaceProperty = options.Namespace, Labels = labels };

    private static Dictionary<string, string> RoleLabels(KubernetesRoleGroup group) =>
        KubernetesLabels.For(KubernetesLabels.EngineName, group.Name, group.Role.ToConfigName(), group.Role.ToConfigName());

    /// <summary>
    /// Where PyNccl members rendezvous (<c>kv_ip</c>): the stable name of the rank-0 pod, e.g. <c>prefill-0.prefill</c>;
    /// null when no engine has a rank.
    /// </summary>
    private static string? RendezvousHost(IReadOnlyList<KubernetesRoleGroup> roles) =>
        roles.Where(g => g.IsStateful)
            .SelectMany(g => g.Engines.Select((engine, ordinal) => (Group: g, Engine: engine, Ordinal: ordinal)))
            .Where(e => KubernetesKvTransferConfig.Rank(e.Engine.Args) == 0)
            .Select(e => e.Group.HostOf(e.Ordinal))
            .FirstOrDefault();

    private V1Service BuildRoleService(KubernetesRoleGroup group) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Metadata(group.Name, RoleLabels(group)),
        Spec = new V1ServiceSpec
        {
            // Headless: one A/AAAA record per pod (the proxy's DNS discovery) and, for a StatefulSet, one stable
            // name per pod. Not-ready pods are published too because KV peers (NCCL rendezvous, side channels)
            // connect while models still load; the proxy admits a pod only after its own /health probe passes.
            ClusterIP = "None",
            PublishNotReadyAddresses = true,
            Selector = KubernetesLabels.RoleSelector(group.Role.ToConfigName()),
            Ports = [.. group.Template.Endpoints.Select(e => new V1ServicePort { Name = e.Name, Port = e.TargetPort, TargetPort = e.Name, Protocol = "TCP" })],
        },
    };

    private V1Deployment BuildDeployment(KubernetesRoleGroup group, V1PodTemplateSpec template) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = Metadata(group.Name, RoleLabels(group)),
        Spec = new V1DeploymentSpec
        {
            // An autoscaled role leaves the count to its HorizontalPodAutoscaler: a fixed count would reset it on
            // every apply.
            Replicas = _autoscaling.IsAutoscaled(group) ? null : group.Replicas,

            // Replace one pod at a time without a surge pod: a surge would need GPUs beyond the role's share
            // while the old pods still hold theirs.
            Strategy = new V1DeploymentStrategy
            {
                Type = "RollingUpdate",
                RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 0, MaxUnavailable = 1 },
            },
            Selector = new V1LabelSelector { MatchLabels = KubernetesLabels.Selector(group.Name) },
            Template = template,
        },
    };

    private V1StatefulSet BuildStatefulSet(KubernetesRoleGroup group, V1PodTemplateSpec template) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "StatefulSet",
        Metadata = Metadata(group.Name, RoleLabels(group)),
        Spec = new V1StatefulSetSpec
        {
            Replicas = group.Replicas,

            // The headless role Service gives pod N the name <role>-N.<role>, which peers are configured with.
            ServiceName = group.Name,

            // Members of an NCCL group wait for each other at start-up; ordered start would deadlock a group
            // spread over several pods of one set, and models load for minutes.
            PodManagementPolicy = "Parallel",
            Selector = new V1LabelSelector { MatchLabels = KubernetesLabels.Selector(group.Name) },
            Template = template,
        },
    };

    private V1PodTemplateSpec BuildPodTemplate(
        KubernetesRoleGroup group,
        IReadOnlyList<KubernetesRoleGroup> roles,
        KubernetesValues values,
        string? rendezvousHost,
        KubernetesModelStorage storage,
        bool colocate)
    {
        // Pods use the pod network unless Pd:Kubernetes:HostNetwork keeps the model's: every connector works with
        // one IP per pod (the KV addresses become the pod IP), and only then do several pods of a role fit on a node.
        var hostNetwork = options.HostNetwork && group.Template.HostNetwork;
        var engine = group.Template;
        var args = engine.Args.Select(a => KubernetesKvTransferConfig.Rewrite(a, values.GatewayHost, rendezvousHost)).ToList();

        // The device plugin gives the container exactly its GPUs, numbered from 0, so the host indices the
        // model sets in CUDA_VISIBLE_DEVICES (AMD: HIP_VISIBLE_DEVICES) for a single host do not apply.
        var environment = values.Environment(
            engine.Environment, args, key => key is GpuDeviceArgs.CudaVisibleDevices or GpuDeviceArgs.HipVisibleDevices);
        KubernetesPodAddresses.Apply(environment);
        foreach (var variable in environment.Where(e => e.Name == UcxTransports.Variable && e.Value is not null))
        {
            variable.Value = UcxTransports.ForSeparateContainers(variable.Value);
        }

        var container = new V1Container
        {
            Name = EngineContainerName,
            Image = engine.Image,
            Command = engine.Entrypoint is { } entrypoint ? [entrypoint] : null,
            Args = [.. args.Select(values.Render)],
            Env = NullIfEmpty(environment),
            Ports = [.. engine.Endpoints.Select(e => new V1ContainerPort
            {
                Name = e.Name,
                ContainerPort = e.TargetPort,
                Protocol = "TCP",
                HostPort = hostNetwork ? e.TargetPort : null,
            })],
            StartupProbe = HttpProbe(engine.HealthPath, ProbePeriodSeconds, (options.StartupTimeoutSeconds + ProbePeriodSeconds - 1) / ProbePeriodSeconds),
            ReadinessProbe = HttpProbe(engine.HealthPath, ProbePeriodSeconds, 3),
            LivenessProbe = HttpProbe(engine.HealthPath, 30, 3),
            VolumeMounts = [],
        };

        container.Resources = _pods.EngineResources(engine.Gpus);
        container.SecurityContext = KubernetesPodSettings.EngineSecurity(engine);

        var volumes = new List<V1Volume>();

        // --ipc=host has no pod equivalent; PyTorch needs a large /dev/shm, which an in-memory emptyDir gives.
        volumes.Add(new V1Volume
        {
            Name = ShmVolumeName,
            EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = options.ShmSizeLimit is { } limit ? new ResourceQuantity(limit) : null },
        });
        container.VolumeMounts.Add(new V1VolumeMount { Name = ShmVolumeName, MountPath = "/dev/shm" });
        storage.AddVolumes(engine, volumes, (List<V1VolumeMount>)container.VolumeMounts);
        var download = storage.DownloadContainer(engine, container);

        var pod = new V1PodSpec
        {
            HostNetwork = hostNetwork ? true : null,
            DnsPolicy = hostNetwork ? "ClusterFirstWithHostNet" : null,
            InitContainers = download is null ? null : [download],
            Containers = [container],
            Volumes = volumes,
        };
        _pods.ApplyToEngine(pod, group, hostNetwork, colocate);

        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = RoleLabels(group), Annotations = _pods.ScrapeAnnotations(engine.HttpEndpoint.TargetPort) },
            Spec = pod,
        };
    }

    private (V1ConfigMap ConfigMap, V1Deployment Deployment, V1Service Service) BuildGateway(
        DeploymentSnapshot snapshot,
        IReadOnlyList<KubernetesRoleGroup> roles,
        KubernetesValues values)
    {
        var gateway = snapshot.Gateway;
        var labels = KubernetesLabels.For(KubernetesLabels.GatewayName, gateway.Name, KubernetesLabels.GatewayComponent, role: null);
        var configMapName = gateway.Name + "-config";
        var environment = KubernetesDiscoverySettings.Apply(gateway.Environment, roles, options.Namespace);

        // The annotation scrape carries no key: without this, a proxy with Pd:ApiKey answers every scrape with 401.
        KubernetesMetricsAccess.Apply(environment, options.PrometheusAnnotations);

        // Settings without secrets go to the ConfigMap; anything built from a secret stays a secretKeyRef.
        var plain = environment.Where(e => !e.Value.Parameters.Any(KubernetesValues.IsFromSecret)).ToList();
        var secret = environment.Except(plain).ToList();
        var configMap = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = Metadata(configMapName, labels),
            Data = plain.ToDictionary(e => e.Key, e => values.Render(e.Value), StringComparer.Ordinal),
        };

        var container = new V1Container
        {
            Name = gateway.Name,
            Image = options.ProxyImage,

            // Explicit: with a ":latest" (or untagged) image Kubernetes would default to Always.
            ImagePullPolicy = options.ImagePullPolicy,

            // The pod leaves the Service's endpoints when it starts terminating, but kube-proxies and ingresses
            // learn it a moment later: the preStop pause keeps serving meanwhile, then SIGTERM turns readiness off
            // and the proxy drains in-flight streams (Pd:Proxy:ShutdownTimeoutSeconds). A sleep action, because
            // the proxy's image has no shell.
            Lifecycle = options.PreStopSeconds > 0
                ? new V1Lifecycle { PreStop = new V1LifecycleHandler { Sleep = new V1SleepAction { Seconds = options.PreStopSeconds } } }
                : null,
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMapName } }],
            Env = NullIfEmpty(values.Environment(secret, [], _ => false)),
            Ports = [.. gateway.Endpoints.Select(e => new V1ContainerPort { Name = e.Name, ContainerPort = e.TargetPort, Protocol = "TCP" })],
            ReadinessProbe = HttpProbe(gateway.HealthPath, 5, 3, gateway.HttpEndpointName),
            LivenessProbe = HttpProbe(gateway.AlivePath, 10, 3, gateway.HttpEndpointName),
            Resources = _pods.ProxyResources(),
            SecurityContext = KubernetesPodSettings.ProxySecurity(),
        };

        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Metadata(gateway.Name, labels),
            Spec = new V1DeploymentSpec
            {
                // One replica: P2pNccl instances register with one proxy's in-memory registry.
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = KubernetesLabels.Selector(gateway.Name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels, Annotations = _pods.ScrapeAnnotations(gateway.Endpoints.First(e => e.Name == gateway.HttpEndpointName).TargetPort) },
                    Spec = new V1PodSpec
                    {
                        Containers = [container],
                        ImagePullSecrets = _pods.PullSecrets(),
                        TerminationGracePeriodSeconds = TerminationGracePeriodSeconds(gateway),
                    },
                },
            },
        };

        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Metadata(gateway.Name, labels),
            Spec = new V1ServiceSpec
            {
                Selector = KubernetesLabels.Selector(gateway.Name),
                Ports = [.. gateway.Endpoints.Select(e => new V1ServicePort { Name = e.Name, Port = e.Port, TargetPort = e.Name, Protocol = "TCP" })],
            },
        };

        return (configMap, deployment, service);
    }

    /// <summary>The proxy pod's grace period: the preStop pause, the drain, and a margin for the process to exit.</summary>
    internal long TerminationGracePeriodSeconds(DeploymentGateway gateway) =>
        options.PreStopSeconds + gateway.DrainSeconds + GracePeriodMarginSeconds;

    private static List<V1EnvVar>? NullIfEmpty(List<V1EnvVar> environment) => environment.Count > 0 ? environment : null;

    private static V1Probe HttpProbe(string path, int periodSeconds, int failureThreshold, string port = VllmResource.HttpEndpointName) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = 5,
        FailureThreshold = failureThreshold,
    };
}
