using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// Writes Kubernetes manifests (one multi-document file, <see cref="ManifestFileName"/>) for a cluster with
/// the NVIDIA device plugin: per engine a Deployment (one pod, <c>nvidia.com/gpu</c> limit, the model's
/// arguments and environment, startup/readiness/liveness probes on <c>/health</c>, an in-memory
/// <c>/dev/shm</c>, the data volume) and a headless Service named after it (so the peer addresses in the
/// model, e.g. <c>prefill-0</c>, resolve to the pod); per role a headless Service over all its pods; the
/// proxy's ConfigMap, Deployment and Service. Secrets are referenced (<c>secretKeyRef</c>), never written.
/// </summary>
/// <param name="options">The writer's settings.</param>
/// <param name="logger">Logs what was written.</param>
public sealed class KubernetesWriter(PdKubernetesOptions options, ILogger<KubernetesWriter> logger) : IDeploymentWriter
{
    /// <summary>The publisher name.</summary>
    public const string PublisherName = "kubernetes";

    /// <summary>The manifest file's name.</summary>
    public const string ManifestFileName = "pdapp.yaml";

    /// <summary>The resource name of NVIDIA GPUs (NVIDIA device plugin).</summary>
    public const string GpuResourceName = "nvidia.com/gpu";

    private const string EngineContainerName = "vllm";
    private const string ShmVolumeName = "dshm";
    private const int ProbePeriodSeconds = 10;

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
        var values = new KubernetesValues(snapshot, options);
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

        foreach (var engine in snapshot.Engines)
        {
            objects.Add(BuildEngineService(engine));
            objects.Add(BuildEngineDeployment(engine, values));
        }

        foreach (var role in snapshot.Engines.Select(e => e.Role).Distinct())
        {
            objects.Add(BuildRoleService(role));
        }

        var (configMap, deployment, service) = BuildGateway(snapshot, values);
        objects.Add(configMap);
        objects.Add(deployment);
        objects.Add(service);
        return objects;
    }

    /// <summary>The name of the headless Service over every engine of <paramref name="role"/> (<c>prefill</c>, <c>decode</c>).</summary>
    /// <param name="role">The role.</param>
    /// <returns>The Service name.</returns>
    public static string RoleServiceName(PdRole role) => role.ToConfigName();

    private V1ObjectMeta Metadata(string name, Dictionary<string, string> labels) =>
        new() { Name = name, NamespaceProperty = options.Namespace, Labels = labels };

    private static Dictionary<string, string> EngineLabels(DeploymentEngine engine) =>
        KubernetesLabels.For(KubernetesLabels.EngineName, engine.Name, engine.Role.ToConfigName(), engine.Role.ToConfigName());

    private V1Service BuildEngineService(DeploymentEngine engine) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Metadata(engine.Name, EngineLabels(engine)),
        Spec = new V1ServiceSpec
        {
            // Headless: the name resolves to the pod itself, which is what KV peers (NCCL rendezvous, ZMQ
            // side channels) need, and before readiness, because they connect while the model still loads.
            ClusterIP = "None",
            PublishNotReadyAddresses = true,
            Selector = KubernetesLabels.Selector(engine.Name),
            Ports = [.. engine.Endpoints.Select(e => new V1ServicePort { Name = e.Name, Port = e.TargetPort, TargetPort = e.Name, Protocol = "TCP" })],
        },
    };

    private V1Service BuildRoleService(PdRole role) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Metadata(
            RoleServiceName(role),
            KubernetesLabels.For(KubernetesLabels.EngineName, RoleServiceName(role), role.ToConfigName(), role.ToConfigName())),
        Spec = new V1ServiceSpec
        {
            // Headless with no ports: one A/AAAA record per ready pod of the role (DNS discovery).
            ClusterIP = "None",
            Selector = KubernetesLabels.RoleSelector(role.ToConfigName()),
        },
    };

    private V1Deployment BuildEngineDeployment(DeploymentEngine engine, KubernetesValues values)
    {
        var labels = EngineLabels(engine);
        var container = new V1Container
        {
            Name = EngineContainerName,
            Image = engine.Image,
            Command = engine.Entrypoint is { } entrypoint ? [entrypoint] : null,
            Args = [.. engine.Args.Select(values.Render)],

            // The device plugin gives the container exactly its GPUs, numbered from 0, so the host indices the
            // model sets in CUDA_VISIBLE_DEVICES for docker run do not apply.
            Env = NullIfEmpty(values.Environment(engine.Environment, engine.Args, key => key == "CUDA_VISIBLE_DEVICES")),
            Ports = [.. engine.Endpoints.Select(e => new V1ContainerPort
            {
                Name = e.Name,
                ContainerPort = e.TargetPort,
                Protocol = "TCP",
                HostPort = engine.HostNetwork ? e.TargetPort : null,
            })],
            StartupProbe = HttpProbe(engine.HealthPath, ProbePeriodSeconds, (options.StartupTimeoutSeconds + ProbePeriodSeconds - 1) / ProbePeriodSeconds),
            ReadinessProbe = HttpProbe(engine.HealthPath, ProbePeriodSeconds, 3),
            LivenessProbe = HttpProbe(engine.HealthPath, 30, 3),
            VolumeMounts = [],
        };

        if (engine.Gpus.Count > 0)
        {
            var gpus = new ResourceQuantity(engine.Gpus.Count.ToString(CultureInfo.InvariantCulture));
            container.Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { [GpuResourceName] = gpus } };
        }

        if (engine.Privileged || engine.Capabilities.Count > 0)
        {
            container.SecurityContext = new V1SecurityContext
            {
                Privileged = engine.Privileged ? true : null,
                Capabilities = engine.Capabilities.Count > 0 ? new V1Capabilities { Add = [.. engine.Capabilities] } : null,
            };
        }

        var volumes = new List<V1Volume>();
        if (engine.HostIpc)
        {
            // --ipc=host has no pod equivalent; PyTorch needs a large /dev/shm, which an in-memory emptyDir gives.
            volumes.Add(new V1Volume
            {
                Name = ShmVolumeName,
                EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = options.ShmSizeLimit is { } limit ? new ResourceQuantity(limit) : null },
            });
            container.VolumeMounts.Add(new V1VolumeMount { Name = ShmVolumeName, MountPath = "/dev/shm" });
        }

        for (var i = 0; i < engine.Mounts.Count; i++)
        {
            var mount = engine.Mounts[i];
            var name = mount.Target switch
            {
                VllmResource.DataMountPath => "data",
                VllmResource.HuggingFaceCachePath => "hf-cache",
                _ => "mount-" + i.ToString(CultureInfo.InvariantCulture),
            };
            volumes.Add(BuildMountVolume(name, mount));
            container.VolumeMounts.Add(new V1VolumeMount { Name = name, MountPath = mount.Target, ReadOnlyProperty = mount.IsReadOnly ? true : null });
        }

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Metadata(engine.Name, labels),
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,

                // A rolling update would need a second set of GPUs while the old pod still holds them.
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Selector = new V1LabelSelector { MatchLabels = KubernetesLabels.Selector(engine.Name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        HostNetwork = engine.HostNetwork ? true : null,
                        DnsPolicy = engine.HostNetwork ? "ClusterFirstWithHostNet" : null,
                        Containers = [container],
                        Volumes = volumes.Count > 0 ? volumes : null,
                    },
                },
            },
        };
    }

    private V1Volume BuildMountVolume(string name, DeploymentMount mount)
    {
        if (mount.Target == VllmResource.DataMountPath
            && options.ModelVolume is { } setting
            && KubernetesModelVolume.TryParse(setting, out var volume))
        {
            return volume.ClaimName is { } claim
                ? new V1Volume { Name = name, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim, ReadOnlyProperty = mount.IsReadOnly ? true : null } }
                : new V1Volume { Name = name, HostPath = new V1HostPathVolumeSource { Path = volume.HostPath, Type = "Directory" } };
        }

        // Default: the same node folder the single-host model mounts.
        return new V1Volume { Name = name, HostPath = new V1HostPathVolumeSource { Path = mount.Source, Type = "Directory" } };
    }

    private (V1ConfigMap ConfigMap, V1Deployment Deployment, V1Service Service) BuildGateway(DeploymentSnapshot snapshot, KubernetesValues values)
    {
        var gateway = snapshot.Gateway;
        var labels = KubernetesLabels.For(KubernetesLabels.GatewayName, gateway.Name, KubernetesLabels.GatewayComponent, role: null);
        var configMapName = gateway.Name + "-config";

        // Settings without secrets go to the ConfigMap; anything built from a secret stays a secretKeyRef.
        var plain = gateway.Environment.Where(e => !e.Value.Parameters.Any(KubernetesValues.IsFromSecret)).ToList();
        var secret = gateway.Environment.Except(plain).ToList();
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
            EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = configMapName } }],
            Env = NullIfEmpty(values.Environment(secret, [], _ => false)),
            Ports = [.. gateway.Endpoints.Select(e => new V1ContainerPort { Name = e.Name, ContainerPort = e.TargetPort, Protocol = "TCP" })],
            ReadinessProbe = HttpProbe(gateway.HealthPath, 5, 3, "http"),
            LivenessProbe = HttpProbe(gateway.AlivePath, 10, 3, "http"),
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
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec { Containers = [container] },
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

    private static List<V1EnvVar>? NullIfEmpty(List<V1EnvVar> environment) => environment.Count > 0 ? environment : null;

    private static V1Probe HttpProbe(string path, int periodSeconds, int failureThreshold, string port = VllmResource.HttpEndpointName) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = 5,
        FailureThreshold = failureThreshold,
    };
}
