using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting.KvConnectors;
using PdApp.Protocol;

namespace PdApp.Hosting;

/// <summary>
/// A vLLM OpenAI-compatible server running in a container, in one part of disaggregated serving.
/// </summary>
/// <param name="name">The resource name, e.g. <c>prefill-0</c>.</param>
/// <param name="role">The part the instance plays; decides its <c>kv_role</c>.</param>
public class VllmResource(string name, PdRole role) : ContainerResource(name), IResourceWithServiceDiscovery
{
    /// <summary>Name of the OpenAI-compatible HTTP endpoint (the server's <c>--port</c>).</summary>
    public const string HttpEndpointName = "http";

    /// <summary>Name of the KV events PUB endpoint (<c>--kv-events-config</c> <c>endpoint</c>), declared when the engine publishes them.</summary>
    public const string KvEventsEndpointName = "kv-events";

    /// <summary>
    /// Name of the KV events ROUTER replay endpoint (<c>replay_endpoint</c>); at most 15 characters, as Kubernetes port names must be.
    /// </summary>
    public const string KvEventsReplayEndpointName = "kv-replay";

    /// <summary>Path of vLLM's liveness endpoint: 200 once the model is loaded, 503 when the engine died.</summary>
    public const string HealthPath = "/health";

    /// <summary>Where the host data folder is mounted (models, shared KV storage), as in the vLLM PD guide.</summary>
    public const string DataMountPath = "/data";

    /// <summary>Where the official image looks for downloaded Hugging Face models.</summary>
    public const string HuggingFaceCachePath = "/root/.cache/huggingface";

    private EndpointReference? _primaryEndpoint;
    private EndpointReference? _kvEventsEndpoint;

    /// <summary>The part the instance plays.</summary>
    public PdRole Role { get; } = role;

    /// <summary>The <c>kv_role</c> the role maps to (prefill: producer, decode: consumer, both: both).</summary>
    public string KvRole => Role.ToKvRole();

    /// <summary>The engine arguments rendered after <c>vllm serve</c>.</summary>
    public VllmServeArguments Arguments { get; } = new();

    /// <summary>Container settings the engine needs beyond image and arguments (GPUs, IPC, networking).</summary>
    public VllmContainerSettings Container { get; } = new();

    /// <summary>The KV connector, when the instance takes part in KV transfer.</summary>
    public KvConnector? KvConnector { get; internal set; }

    /// <summary>The OpenAI-compatible HTTP endpoint.</summary>
    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, HttpEndpointName);

    /// <summary>The KV events PUB endpoint (exists once <c>WithKvEvents</c> declared it).</summary>
    public EndpointReference KvEventsEndpoint => _kvEventsEndpoint ??= new(this, KvEventsEndpointName);
}
