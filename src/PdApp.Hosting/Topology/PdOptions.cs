using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.Topology;

/// <summary>
/// The <c>Pd</c> configuration section of the app host: an xPyD prefill/decode topology. The defaults
/// reproduce the vLLM PD guide's SharedStorageConnector recipe on one host (prefill-0 on GPU 0 port 8100,
/// decode-0 on GPU 1 port 8200, proxy on 8000, model <c>/data/dp7b/</c>); <see cref="Recipe"/> switches to
/// another preset, whose values any other key still overrides.
/// </summary>
public sealed class PdOptions
{
    /// <summary>The configuration section's name.</summary>
    public const string SectionName = "Pd";

    /// <summary><c>Pd:Recipe</c>: the preset the defaults come from (<see cref="PdRecipes"/>).</summary>
    public string Recipe { get; set; } = PdRecipes.Default;

    /// <summary><c>Pd:Backend</c>: what runs the engines.</summary>
    public PdBackend Backend { get; set; } = PdBackend.Auto;

    /// <summary>
    /// <c>Pd:CheckGpuRuntime</c>: with <c>Pd:Backend=vllm</c> in run mode, refuse to start when no container
    /// runtime with NVIDIA GPUs is found (default). Turn off for a remote container host the check cannot see.
    /// </summary>
    public bool CheckGpuRuntime { get; set; } = true;

    /// <summary><c>Pd:Connector</c>: the KV connector (<see cref="KvConnectorNames"/>).</summary>
    public string Connector { get; set; } = KvConnectorNames.SharedStorage;

    /// <summary><c>Pd:Model</c>: the model path inside the containers or a Hugging Face id.</summary>
    public string Model { get; set; } = "/data/dp7b/";

    /// <summary><c>Pd:ServedModelName</c>: the name clients use (<c>--served-model-name</c>); default: the model.</summary>
    public string? ServedModelName { get; set; }

    /// <summary><c>Pd:Image</c>: the engine image (<c>registry/repository:tag</c>); default: per connector.</summary>
    public string? Image { get; set; }

    /// <summary><c>Pd:Entrypoint</c>: <c>VllmServe</c> or <c>OpenAiApiServer</c> for old images.</summary>
    public VllmEntrypoint Entrypoint { get; set; } = VllmEntrypoint.VllmServe;

    /// <summary><c>Pd:Prefill</c>: the prefill instances (default: 1 on port 8100).</summary>
    public PdInstanceGroupOptions Prefill { get; set; } = new() { Count = 1, BasePort = 8100 };

    /// <summary><c>Pd:Decode</c>: the decode instances (default: 1 on port 8200).</summary>
    public PdInstanceGroupOptions Decode { get; set; } = new() { Count = 1, BasePort = 8200 };

    /// <summary><c>Pd:ProxyPort</c>: the proxy's HTTP port.</summary>
    public int ProxyPort { get; set; } = 8000;

    /// <summary><c>Pd:RegistryPort</c>: the proxy's P2pNccl registration (ZeroMQ) port.</summary>
    public int RegistryPort { get; set; } = 30001;

    /// <summary><c>Pd:MaxModelLen</c>: <c>--max-model-len</c>.</summary>
    public int? MaxModelLen { get; set; } = 4096;

    /// <summary><c>Pd:GpuMemoryUtilization</c>: <c>--gpu-memory-utilization</c>.</summary>
    public double? GpuMemoryUtilization { get; set; } = 0.8;

    /// <summary><c>Pd:TensorParallelSize</c>: GPUs per instance (times the pipeline size).</summary>
    public int TensorParallelSize { get; set; } = 1;

    /// <summary><c>Pd:PipelineParallelSize</c>.</summary>
    public int PipelineParallelSize { get; set; } = 1;

    /// <summary><c>Pd:TrustRemoteCode</c>: <c>--trust-remote-code</c>.</summary>
    public bool TrustRemoteCode { get; set; } = true;

    /// <summary><c>Pd:NetworkInterface</c>: <c>GLOO_SOCKET_IFNAME</c> and <c>NCCL_SOCKET_IFNAME</c> (e.g. <c>eth0</c>).</summary>
    public string? NetworkInterface { get; set; }

    /// <summary><c>Pd:HostNetwork</c>: run the containers with <c>--network=host</c>.</summary>
    public bool HostNetwork { get; set; }

    /// <summary><c>Pd:HostAddress</c>: the address peers reach this host at with host networking (KV rendezvous, side channels).</summary>
    public string HostAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// <c>Pd:GpuVendor</c>: <c>Nvidia</c> (default) or <c>Amd</c> (ROCm devices, <c>HIP_VISIBLE_DEVICES</c>; give a ROCm
    /// image with <c>Pd:Image</c>). The GPU options follow the container runtime Aspire uses (<c>ASPIRE_CONTAINER_RUNTIME</c>).
    /// </summary>
    public PdApp.Hosting.Containers.GpuVendor GpuVendor { get; set; } = PdApp.Hosting.Containers.GpuVendor.Nvidia;

    /// <summary><c>Pd:Privileged</c>: <c>--privileged</c>.</summary>
    public bool Privileged { get; set; }

    /// <summary><c>Pd:Capabilities</c>: comma-separated <c>--cap-add</c> capabilities (e.g. <c>SYS_PTRACE</c>).</summary>
    public string? Capabilities { get; set; }

    /// <summary>
    /// <c>Pd:Environment:{NAME}</c>: environment variables for every engine (e.g. <c>VLLM_USE_MODELSCOPE</c>,
    /// <c>NCCL_DEBUG</c>, <c>VLLM_NIXL_ABORT_REQUEST_TIMEOUT</c>); <c>Pd:Prefill:Environment</c>,
    /// <c>Pd:Decode:Environment</c> and <c>Pd:{Role}:Instances:{i}:Environment</c> override them per role and
    /// per instance. Variables the topology sets itself (connector, GPUs, secrets) are refused, naming the setting to use.
    /// </summary>
    public Dictionary<string, string> Environment { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>Pd:ModelDownload</c>: fetch the model before the vLLM engines start (off by default).</summary>
    public PdModelDownloadOptions ModelDownload { get; set; } = new();

    /// <summary><c>Pd:DataPath</c>: the host folder mounted at <c>/data</c>.</summary>
    public string DataPath { get; set; } = "/data";

    /// <summary><c>Pd:HuggingFaceCachePath</c>: a host folder mounted as the Hugging Face cache (for models given by id); default: none.</summary>
    public string? HuggingFaceCachePath { get; set; }

    /// <summary><c>Pd:ExtraArgs:{i}</c>: engine arguments appended verbatim.</summary>
    public List<string> ExtraArgs { get; set; } = [];

    /// <summary><c>Pd:UseHuggingFaceToken</c>: pass the secret parameter <c>hf-token</c> as <c>HF_TOKEN</c>.</summary>
    public bool UseHuggingFaceToken { get; set; }

    /// <summary><c>Pd:UseApiKey</c>: run the engines with <c>--api-key</c> from the secret parameter <c>vllm-api-key</c> (the proxy forwards it).</summary>
    public bool UseApiKey { get; set; }

    /// <summary>
    /// <c>Pd:UseClientApiKey</c>: clients must send the secret parameter <c>pdapp-api-key</c> as a bearer token to the
    /// proxy (its <c>Pd:ApiKey</c>). In run mode Aspire generates the value once and keeps it in the app host's user
    /// secrets unless <c>Parameters:pdapp-api-key</c> gives one; deployments ask for it.
    /// </summary>
    public bool UseClientApiKey { get; set; }

    /// <summary>
    /// <c>Pd:UseAdminApiKey</c>: enable the proxy's <c>/admin</c> API behind the secret parameter <c>pdapp-admin-api-key</c>
    /// (its <c>Pd:AdminApiKey</c>); generated and kept like <see cref="UseClientApiKey"/>. Off: the admin API is disabled.
    /// </summary>
    public bool UseAdminApiKey { get; set; }

    /// <summary>
    /// <c>Pd:KvConnectorExtraConfig:{key}</c>: entries added to the connector's <c>kv_connector_extra_config</c>
    /// (for a MultiConnector: to the parent), for settings this section does not model.
    /// </summary>
    public Dictionary<string, string> KvConnectorExtraConfig { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>Pd:External</c>: instance URLs for the external backend.</summary>
    public PdExternalOptions External { get; set; } = new();

    /// <summary><c>Pd:SharedStorage</c>.</summary>
    public PdSharedStorageOptions SharedStorage { get; set; } = new();

    /// <summary><c>Pd:PyNccl</c>.</summary>
    public PdPyNcclOptions PyNccl { get; set; } = new();

    /// <summary><c>Pd:P2pNccl</c>.</summary>
    public PdP2pNcclOptions P2pNccl { get; set; } = new();

    /// <summary><c>Pd:Nixl</c>.</summary>
    public PdNixlOptions Nixl { get; set; } = new();

    /// <summary><c>Pd:LMCache</c>.</summary>
    public PdLMCacheOptions LMCache { get; set; } = new();

    /// <summary><c>Pd:Multi</c>.</summary>
    public PdMultiOptions Multi { get; set; } = new();

    /// <summary><c>Pd:KvEvents</c>: the engines' KV cache events for the proxy's KV-cache-aware routing.</summary>
    public PdKvEventsOptions KvEvents { get; set; } = new();

    /// <summary>
    /// The known connectors in use, as <see cref="ConnectorCatalog"/> describes them: <see cref="Connector"/>,
    /// or the MultiConnector's children. Unknown names are left out (the validator reports them).
    /// </summary>
    /// <returns>The connectors' traits.</returns>
    public IReadOnlyList<KvConnectorTraits> EffectiveConnectors()
    {
        IReadOnlyList<string> names = ConnectorCatalog.TryGet(Connector, out var traits) && traits.IsComposite ? Multi.Connectors : [Connector];
        var known = new List<KvConnectorTraits>(names.Count);
        foreach (var name in names)
        {
            if (ConnectorCatalog.TryGet(name, out var child))
            {
                known.Add(child);
            }
        }

        return known;
    }

    /// <summary>Whether <paramref name="kind"/> is among <see cref="EffectiveConnectors"/>.</summary>
    /// <param name="kind">The connector.</param>
    /// <returns>True when the instances run it.</returns>
    public bool Uses(KvConnectorKind kind) => EffectiveConnectors().Any(c => c.Kind == kind);
}
