namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>Settings of the Kubernetes writer (<c>Pd:Kubernetes</c>); everything else comes from the app model.</summary>
public sealed class PdKubernetesOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Kubernetes";

    /// <summary><c>Pd:Kubernetes:Namespace</c>: the namespace of every object, default <c>pdapp</c>.</summary>
    public string Namespace { get; set; } = "pdapp";

    /// <summary><c>Pd:Kubernetes:CreateNamespace</c>: also write the Namespace object, default true.</summary>
    public bool CreateNamespace { get; set; } = true;

    /// <summary>
    /// <c>Pd:Kubernetes:ProxyImage</c>: the proxy's image, pushed to a registry the cluster pulls from, default
    /// <see cref="DeploymentDefaults.ProxyImage"/> (a fixed tag; <c>latest</c> would make Kubernetes pull on every start).
    /// </summary>
    public string ProxyImage { get; set; } = DeploymentDefaults.ProxyImage;

    /// <summary><c>Pd:Kubernetes:ImagePullPolicy</c>: the proxy's <c>imagePullPolicy</c>, default <c>IfNotPresent</c>.</summary>
    public string ImagePullPolicy { get; set; } = "IfNotPresent";

    /// <summary>
    /// <c>Pd:Kubernetes:PreStopSeconds</c>: the proxy's preStop pause before SIGTERM, default 5, so load balancers stop
    /// sending before it drains; the pod's <c>terminationGracePeriodSeconds</c> is this plus the drain plus 10.
    /// Needs Kubernetes 1.30+ (the preStop <c>sleep</c> action); 0 leaves it out.
    /// </summary>
    public int PreStopSeconds { get; set; } = 5;

    /// <summary>
    /// <c>Pd:Kubernetes:ModelVolume</c>: what backs the engines' <c>/data</c> mount: <c>pvc:&lt;claim&gt;</c> (an existing
    /// PersistentVolumeClaim) or <c>hostPath:&lt;path&gt;</c> (a node folder, created when missing). Default: a claim the
    /// manifests create, <see cref="ModelClaimName"/>, of <see cref="ModelVolumeSize"/> with
    /// <see cref="ModelVolumeAccessMode"/>. It also holds the Hugging Face cache (sub-path <c>hf-cache</c>) unless the
    /// model mounts its own, so downloads survive restarts.
    /// </summary>
    public string? ModelVolume { get; set; }

    /// <summary><c>Pd:Kubernetes:ModelClaimName</c>: the name of the generated claim, default <c>pdapp-models</c>.</summary>
    public string ModelClaimName { get; set; } = "pdapp-models";

    /// <summary><c>Pd:Kubernetes:ModelVolumeSize</c>: the generated claim's size, default <c>200Gi</c>.</summary>
    public string ModelVolumeSize { get; set; } = "200Gi";

    /// <summary>
    /// <c>Pd:Kubernetes:ModelVolumeAccessMode</c>: the generated claim's access mode, default <c>ReadWriteMany</c>
    /// (engines on several nodes share the model, and SharedStorageConnector's decode reads the prefill's KV files);
    /// needs a storage class that offers it (NFS, CephFS, Azure Files, EFS, Filestore). With <c>ReadWriteOnce</c>
    /// every engine is scheduled onto one node (pod affinity).
    /// </summary>
    public string ModelVolumeAccessMode { get; set; } = "ReadWriteMany";

    /// <summary><c>Pd:Kubernetes:StorageClassName</c>: the generated claim's storage class; default: the cluster's default class.</summary>
    public string? StorageClassName { get; set; }

    /// <summary>
    /// <c>Pd:Kubernetes:ModelDownload</c>: an init container in each engine pod downloads a Hugging Face model
    /// (<c>serve &lt;org/name&gt;</c>) into the persistent cache before vLLM starts, default true; a model path under
    /// <c>/data</c> must already be on the volume.
    /// </summary>
    public bool ModelDownload { get; set; } = true;

    /// <summary>
    /// <c>Pd:Kubernetes:HostNetwork</c>: keep the model's host networking (P2pNccl, PyNccl recipes), default false:
    /// pods use the pod network, each with its own IP, so several pods of a role fit on one node. With true every
    /// pod of a role uses the same host ports, so the writer keeps them on separate nodes (pod anti-affinity).
    /// </summary>
    public bool HostNetwork { get; set; }

    /// <summary><c>Pd:Kubernetes:EngineCpu</c>: each engine's CPU request (no CPU limit, which would throttle), default <c>4</c>.</summary>
    public string EngineCpu { get; set; } = "4";

    /// <summary><c>Pd:Kubernetes:EngineMemory</c>: each engine's memory request, default <c>32Gi</c>.</summary>
    public string EngineMemory { get; set; } = "32Gi";

    /// <summary><c>Pd:Kubernetes:EngineMemoryLimit</c>: each engine's memory limit (the in-memory <c>/dev/shm</c> counts against it), default <c>64Gi</c>.</summary>
    public string EngineMemoryLimit { get; set; } = "64Gi";

    /// <summary><c>Pd:Kubernetes:ProxyCpu</c> / <c>ProxyMemory</c> / <c>ProxyMemoryLimit</c>: the proxy's, defaults <c>500m</c>, <c>256Mi</c>, <c>1Gi</c>.</summary>
    public string ProxyCpu { get; set; } = "500m";

    /// <summary><c>Pd:Kubernetes:ProxyMemory</c>: the proxy's memory request.</summary>
    public string ProxyMemory { get; set; } = "256Mi";

    /// <summary><c>Pd:Kubernetes:ProxyMemoryLimit</c>: the proxy's memory limit.</summary>
    public string ProxyMemoryLimit { get; set; } = "1Gi";

    /// <summary><c>Pd:Kubernetes:NodeSelector:{label}</c>: labels engine nodes must have (e.g. <c>nvidia.com/gpu.product</c>); none by default.</summary>
    public Dictionary<string, string> NodeSelector { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// <c>Pd:Kubernetes:TolerateGpuTaint</c>: engines tolerate the <c>nvidia.com/gpu</c> NoSchedule taint GPU node pools
    /// commonly carry (GKE, AKS, EKS with the GPU operator), default true.
    /// </summary>
    public bool TolerateGpuTaint { get; set; } = true;

    /// <summary><c>Pd:Kubernetes:ImagePullSecrets:{i}</c>: Secrets for private registries, on every pod.</summary>
    public List<string> ImagePullSecrets { get; set; } = [];

    /// <summary><c>Pd:Kubernetes:PrometheusAnnotations</c>: <c>prometheus.io/scrape|port|path</c> on every pod (vLLM and the proxy serve <c>/metrics</c>), default true.</summary>
    public bool PrometheusAnnotations { get; set; } = true;

    /// <summary><c>Pd:Kubernetes:IngressHost</c>: when set, an Ingress routes this host to the proxy (streaming-friendly nginx annotations).</summary>
    public string? IngressHost { get; set; }

    /// <summary><c>Pd:Kubernetes:IngressClassName</c>: the Ingress's class; default: the cluster's default class.</summary>
    public string? IngressClassName { get; set; }

    /// <summary><c>Pd:Kubernetes:SecretName</c>: the Secret holding the parameters (keys: parameter names), default <c>pdapp-secrets</c>.</summary>
    public string SecretName { get; set; } = "pdapp-secrets";

    /// <summary>
    /// <c>Pd:Kubernetes:StartupTimeoutSeconds</c>: how long an engine may take to answer <c>/health</c> after
    /// starting (model download and load, CUDA graph capture) before it is restarted, default 1800.
    /// </summary>
    public int StartupTimeoutSeconds { get; set; } = 1800;

    /// <summary>
    /// <c>Pd:Kubernetes:ShmSizeLimit</c>: size limit of the in-memory <c>/dev/shm</c>, default <c>16Gi</c> (PyTorch and
    /// NCCL use it; it counts against the memory limit).
    /// </summary>
    public string? ShmSizeLimit { get; set; } = "16Gi";

    /// <summary>
    /// <c>Pd:Kubernetes:Autoscaling:*</c>: per-role HorizontalPodAutoscalers on the proxy's per-role demand, off by
    /// default; they need a custom-metrics adapter in the cluster (docs/deployment.md).
    /// </summary>
    public PdKubernetesAutoscalingOptions Autoscaling { get; set; } = new();

    /// <summary>Checks the settings.</summary>
    /// <returns>One message per invalid setting, naming it; empty when valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!IsDnsLabel(Namespace))
        {
            errors.Add($"{SectionName}:Namespace must be a DNS label (lowercase letters, digits, '-'; at most 63), was '{Namespace}'.");
        }

        if (string.IsNullOrWhiteSpace(ProxyImage))
        {
            errors.Add($"{SectionName}:ProxyImage must name the proxy's image (e.g. registry.example.com/pdapp-proxy:0.1.0).");
        }

        if (ImagePullPolicy is not ("Always" or "IfNotPresent" or "Never"))
        {
            errors.Add($"{SectionName}:ImagePullPolicy must be Always, IfNotPresent or Never, was '{ImagePullPolicy}'.");
        }

        if (PreStopSeconds is < 0 or > 300)
        {
            errors.Add($"{SectionName}:PreStopSeconds must be between 0 and 300 (was {PreStopSeconds}).");
        }

        if (ModelVolume is not null && !KubernetesModelVolume.TryParse(ModelVolume, out _))
        {
            errors.Add($"{SectionName}:ModelVolume must be 'pvc:<claim>' or 'hostPath:<absolute path>', was '{ModelVolume}'.");
        }

        if (!IsDnsSubdomain(SecretName))
        {
            errors.Add($"{SectionName}:SecretName must be a DNS subdomain name, was '{SecretName}'.");
        }

        if (StartupTimeoutSeconds < 10)
        {
            errors.Add($"{SectionName}:StartupTimeoutSeconds must be at least 10 (was {StartupTimeoutSeconds}).");
        }

        foreach (var (name, value) in new[]
        {
            (nameof(ShmSizeLimit), ShmSizeLimit), (nameof(ModelVolumeSize), ModelVolumeSize), (nameof(EngineCpu), EngineCpu),
            (nameof(EngineMemory), EngineMemory), (nameof(EngineMemoryLimit), EngineMemoryLimit), (nameof(ProxyCpu), ProxyCpu),
            (nameof(ProxyMemory), ProxyMemory), (nameof(ProxyMemoryLimit), ProxyMemoryLimit),
        })
        {
            if (value is not null && !IsQuantity(value))
            {
                errors.Add($"{SectionName}:{name} must be a quantity such as 16Gi or 500m, was '{value}'.");
            }
        }

        if (ModelVolumeAccessMode is not ("ReadWriteMany" or "ReadWriteOnce" or "ReadWriteOncePod"))
        {
            errors.Add($"{SectionName}:ModelVolumeAccessMode must be ReadWriteMany, ReadWriteOnce or ReadWriteOncePod, was '{ModelVolumeAccessMode}'.");
        }

        if (!IsDnsSubdomain(ModelClaimName))
        {
            errors.Add($"{SectionName}:ModelClaimName must be a DNS subdomain name, was '{ModelClaimName}'.");
        }

        if (ImagePullSecrets.FirstOrDefault(n => !IsDnsSubdomain(n)) is { } secret)
        {
            errors.Add($"{SectionName}:ImagePullSecrets must name Secrets (DNS subdomain names), was '{secret}'.");
        }

        if (IngressHost is not null && !IsDnsSubdomain(IngressHost))
        {
            errors.Add($"{SectionName}:IngressHost must be a host name such as llm.example.com, was '{IngressHost}'.");
        }

        errors.AddRange(Autoscaling.Validate());
        return errors;
    }

    private static bool IsQuantity(string value)
    {
        try
        {
            _ = new k8s.Models.ResourceQuantity(value).ToDecimal();
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    internal static bool IsDnsLabel(string? value) =>
        value is { Length: > 0 and <= 63 } && char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1])
        && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    internal static bool IsDnsSubdomain(string? value) =>
        value is { Length: > 0 and <= 253 } && value.Split('.').All(IsDnsLabel);
}
