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
    /// <c>Pd:Kubernetes:ModelVolume</c>: what backs the engines' <c>/data</c> mount: <c>pvc:&lt;claim&gt;</c> (a
    /// PersistentVolumeClaim; ReadWriteMany when instances run on several nodes, and always for the
    /// SharedStorageConnector, whose prefill writes KV files the decode reads) or <c>hostPath:&lt;path&gt;</c>.
    /// Default: <c>hostPath</c> of the app model's bind-mount source (the single-host layout).
    /// </summary>
    public string? ModelVolume { get; set; }

    /// <summary><c>Pd:Kubernetes:SecretName</c>: the Secret holding the parameters (keys: parameter names), default <c>pdapp-secrets</c>.</summary>
    public string SecretName { get; set; } = "pdapp-secrets";

    /// <summary>
    /// <c>Pd:Kubernetes:StartupTimeoutSeconds</c>: how long an engine may take to answer <c>/health</c> after
    /// starting (model download and load, CUDA graph capture) before it is restarted, default 1800.
    /// </summary>
    public int StartupTimeoutSeconds { get; set; } = 1800;

    /// <summary><c>Pd:Kubernetes:ShmSizeLimit</c>: size limit of the in-memory <c>/dev/shm</c> (e.g. <c>16Gi</c>); none by default.</summary>
    public string? ShmSizeLimit { get; set; }

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

        if (ShmSizeLimit is not null)
        {
            try
            {
                _ = new k8s.Models.ResourceQuantity(ShmSizeLimit).ToDecimal();
            }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
            {
                errors.Add($"{SectionName}:ShmSizeLimit must be a quantity such as 16Gi, was '{ShmSizeLimit}'.");
            }
        }

        return errors;
    }

    internal static bool IsDnsLabel(string? value) =>
        value is { Length: > 0 and <= 63 } && char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1])
        && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    internal static bool IsDnsSubdomain(string? value) =>
        value is { Length: > 0 and <= 253 } && value.Split('.').All(IsDnsLabel);
}
