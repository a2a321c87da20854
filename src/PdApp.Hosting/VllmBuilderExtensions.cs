using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Hosting.KvConnectors;
using PdApp.Hosting.Manifest;
using PdApp.Protocol;

namespace Aspire.Hosting;

/// <summary>Adds vLLM servers for disaggregated prefill/decode serving to an Aspire application.</summary>
public static class VllmBuilderExtensions
{
    /// <summary>
    /// Adds a vLLM OpenAI-compatible server container (<c>vllm/vllm-openai</c>, pinned) in
    /// <paramref name="role"/>, listening on <paramref name="port"/> with a health check on <c>/health</c>.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">The resource name, e.g. <c>prefill-0</c>.</param>
    /// <param name="role">The part the instance plays in PD serving.</param>
    /// <param name="port">The server's <c>--port</c>, used as the container port and, by default, the host port.</param>
    /// <param name="model">The model: a path inside the container (e.g. <c>/data/dp7b/</c>) or a Hugging Face id; may be set later with <see cref="WithModel"/>.</param>
    /// <returns>The resource builder.</returns>
    /// <remarks>
    /// The container runs with <c>--ipc=host</c>, <c>--ulimit memlock=-1</c> and <c>--ulimit stack=67108864</c>,
    /// as the vLLM PD guide runs it; GPUs, privileges and networking are opt-in (<see cref="WithGpus(IResourceBuilder{VllmResource})"/>,
    /// <see cref="WithPrivileged"/>, <see cref="WithHostNetwork"/>). Do not <c>WaitFor</c> it from a gateway:
    /// loading a model takes minutes, and a resource waiting on a container that cannot start fails itself.
    /// </remarks>
    public static IResourceBuilder<VllmResource> AddVllm(
        this IDistributedApplicationBuilder builder,
        [ResourceName] string name,
        PdRole role,
        int port,
        string? model = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (!Enum.IsDefined(role))
        {
            throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown PD role.");
        }

        var resource = new VllmResource(name, role);
        resource.Arguments.Port = port;
        resource.Arguments.Model = model;

        return builder.AddResource(resource)
            .WithImage(VllmContainerImageTags.Image, VllmContainerImageTags.Tag)
            .WithImageRegistry(VllmContainerImageTags.Registry)
            .WithEntrypoint("vllm")
            .WithHttpEndpoint(port: port, targetPort: port, name: VllmResource.HttpEndpointName)
            .WithArgs(context =>
            {
                foreach (var arg in resource.Arguments.Render(resource.Container.Entrypoint))
                {
                    context.Args.Add(arg);
                }
            })
            .WithEnvironment(context => AddEngineEnvironment(resource, context.EnvironmentVariables))
            .WithContainerRuntimeArgs(context =>
            {
                foreach (var arg in resource.Container.ToRuntimeArgs())
                {
                    context.Args.Add(arg);
                }
            })
            .WithManifestPublishingCallback(context => VllmManifestWriter.WriteAsync(context, resource))
            .WithHttpHealthCheck(VllmResource.HealthPath, endpointName: VllmResource.HttpEndpointName)
            .WithVllmDashboardUrls(VllmResource.HttpEndpointName);
    }

    /// <summary>
    /// Labels a vLLM-compatible HTTP endpoint in the dashboard and adds links to its model list and its
    /// Prometheus metrics (<c>/v1/models</c>, <c>/metrics</c>).
    /// </summary>
    /// <typeparam name="T">A resource with the endpoint.</typeparam>
    /// <param name="builder">The resource builder.</param>
    /// <param name="endpointName">The endpoint's name.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<T> WithVllmDashboardUrls<T>(this IResourceBuilder<T> builder, string endpointName)
        where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(endpointName);
        var endpoint = builder.GetEndpoint(endpointName);
        return builder
            .WithUrlForEndpoint(endpointName, url => url.DisplayText = "OpenAI API")
            .WithUrl($"{endpoint}/v1/models", "Models")
            .WithUrl($"{endpoint}/metrics", "Metrics");
    }

    /// <summary>
    /// Mounts a host folder as the Hugging Face cache (<c>/root/.cache/huggingface</c>), so models given by
    /// Hugging Face id are downloaded once and survive container restarts.
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="hostPath">The host folder, e.g. <c>~/.cache/huggingface</c> expanded.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithHuggingFaceCacheBindMount(this IResourceBuilder<VllmResource> builder, string hostPath)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostPath);
        return builder.WithBindMount(hostPath, VllmResource.HuggingFaceCachePath);
    }

    /// <summary>Adds a prefill (<c>kv_producer</c>) vLLM server; see <see cref="AddVllm"/>.</summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">The resource name, e.g. <c>prefill-0</c>.</param>
    /// <param name="port">The server's port (the guide: 8100).</param>
    /// <param name="model">The model path or Hugging Face id.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> AddVllmPrefill(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, int port = 8100, string? model = null) =>
        builder.AddVllm(name, PdRole.Prefill, port, model);

    /// <summary>Adds a decode (<c>kv_consumer</c>) vLLM server; see <see cref="AddVllm"/>.</summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">The resource name, e.g. <c>decode-0</c>.</param>
    /// <param name="port">The server's port (the guide: 8200).</param>
    /// <param name="model">The model path or Hugging Face id.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> AddVllmDecode(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, int port = 8200, string? model = null) =>
        builder.AddVllm(name, PdRole.Decode, port, model);

    /// <summary>Sets the model: a path inside the container (e.g. <c>/data/dp7b/</c>) or a Hugging Face id.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="model">The model.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithModel(this IResourceBuilder<VllmResource> builder, string model)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        builder.Resource.Arguments.Model = model;
        return builder;
    }

    /// <summary>Sets <c>--served-model-name</c>, the model name clients send.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="servedModelName">The name.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithServedModelName(this IResourceBuilder<VllmResource> builder, string servedModelName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(servedModelName);
        builder.Resource.Arguments.ServedModelName = servedModelName;
        return builder;
    }

    /// <summary>Sets <c>--max-model-len</c>, the longest prompt plus output the engine accepts.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="maxModelLen">Tokens, at least 1.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithMaxModelLen(this IResourceBuilder<VllmResource> builder, int maxModelLen)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxModelLen);
        builder.Resource.Arguments.MaxModelLen = maxModelLen;
        return builder;
    }

    /// <summary>Sets <c>--gpu-memory-utilization</c>, the fraction of GPU memory vLLM may take.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="fraction">A value in (0, 1].</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithGpuMemoryUtilization(this IResourceBuilder<VllmResource> builder, double fraction)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!(fraction > 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The GPU memory utilisation must be in (0, 1].");
        }

        builder.Resource.Arguments.GpuMemoryUtilization = fraction;
        return builder;
    }

    /// <summary>Sets <c>--tensor-parallel-size</c>: GPUs one model replica is split across.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="size">At least 1.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithTensorParallelSize(this IResourceBuilder<VllmResource> builder, int size)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        builder.Resource.Arguments.TensorParallelSize = size;
        return builder;
    }

    /// <summary>Sets <c>--pipeline-parallel-size</c>: pipeline stages one model replica is split across.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="size">At least 1.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithPipelineParallelSize(this IResourceBuilder<VllmResource> builder, int size)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        builder.Resource.Arguments.PipelineParallelSize = size;
        return builder;
    }

    /// <summary>Passes <c>--trust-remote-code</c>, letting the model's own Python code run (DeepSeek distills need it).</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="trust">Whether to pass the flag.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithTrustRemoteCode(this IResourceBuilder<VllmResource> builder, bool trust = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Arguments.TrustRemoteCode = trust;
        return builder;
    }

    /// <summary>Appends engine arguments verbatim after the ones this integration renders.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="args">The arguments, e.g. <c>--enforce-eager</c>.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithExtraArgs(this IResourceBuilder<VllmResource> builder, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(args);
        foreach (var arg in args)
        {
            ArgumentNullException.ThrowIfNull(arg, nameof(args));
            builder.Resource.Arguments.ExtraArgs.Add(arg);
        }

        return builder;
    }

    /// <summary>Chooses how the image starts the server (<c>vllm serve</c> or the older <c>api_server</c> module).</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="entrypoint">The flavour.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithVllmEntrypoint(this IResourceBuilder<VllmResource> builder, VllmEntrypoint entrypoint)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Container.Entrypoint = entrypoint switch
        {
            VllmEntrypoint.VllmServe or VllmEntrypoint.OpenAiApiServer => entrypoint,
            _ => throw new ArgumentOutOfRangeException(nameof(entrypoint), entrypoint, "Unknown vLLM entrypoint."),
        };
        return builder.WithEntrypoint(entrypoint == VllmEntrypoint.VllmServe ? "vllm" : "python3");
    }

    /// <summary>Gives the container every GPU of the host (<c>--gpus all</c>).</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithGpus(this IResourceBuilder<VllmResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Container.AllGpus = true;
        builder.Resource.Container.GpuIds.Clear();
        return builder;
    }

    /// <summary>
    /// Gives the container the host GPUs <paramref name="deviceIds"/> (<c>--gpus "device=0,1"</c>) and sets
    /// <c>CUDA_VISIBLE_DEVICES</c> accordingly.
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="deviceIds">Host GPU indices, at least one, no duplicates.</param>
    /// <returns>The resource builder.</returns>
    /// <remarks>
    /// The NVIDIA runtime renumbers the devices it passes from 0, so <c>CUDA_VISIBLE_DEVICES</c> lists
    /// container indices; a privileged container sees every host GPU, so there it lists the host indices
    /// (what the vLLM PD guide does with <c>--privileged</c>).
    /// </remarks>
    public static IResourceBuilder<VllmResource> WithGpus(this IResourceBuilder<VllmResource> builder, params int[] deviceIds)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(deviceIds);
        if (deviceIds.Length == 0)
        {
            throw new ArgumentException("Give at least one GPU index, or call WithGpus() for all GPUs.", nameof(deviceIds));
        }

        if (deviceIds.Any(id => id < 0) || deviceIds.Distinct().Count() != deviceIds.Length)
        {
            throw new ArgumentException("GPU indices must be non-negative and distinct.", nameof(deviceIds));
        }

        builder.Resource.Container.AllGpus = false;
        builder.Resource.Container.GpuIds.Clear();
        foreach (var id in deviceIds)
        {
            builder.Resource.Container.GpuIds.Add(id);
        }

        return builder;
    }

    /// <summary>Runs the container with <c>--privileged</c> (full device access, as the guide's PyNccl recipe does).</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="privileged">Whether to pass the flag.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithPrivileged(this IResourceBuilder<VllmResource> builder, bool privileged = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Container.Privileged = privileged;
        return builder;
    }

    /// <summary>Adds Linux capabilities (<c>--cap-add</c>), e.g. <c>SYS_PTRACE</c> which CUDA IPC between processes needs.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="capabilities">Capability names without the <c>CAP_</c> prefix.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithCapabilities(this IResourceBuilder<VllmResource> builder, params string[] capabilities)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(capabilities);
        foreach (var capability in capabilities)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(capability, nameof(capabilities));
            builder.Resource.Container.Capabilities.Add(capability.Trim().ToUpperInvariant());
        }

        return builder;
    }

    /// <summary>
    /// Runs the container on the host's network (<c>--network=host</c>): the server binds the host's port
    /// directly (the endpoint is not proxied) and NCCL/NIXL peers reach it at the host's address.
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithHostNetwork(this IResourceBuilder<VllmResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Container.HostNetwork = true;
        return builder.WithEndpoint(VllmResource.HttpEndpointName, endpoint => endpoint.IsProxied = false);
    }

    /// <summary>
    /// Names the network interface Gloo and NCCL use for their sockets (<c>GLOO_SOCKET_IFNAME</c>,
    /// <c>NCCL_SOCKET_IFNAME</c>); without it they may pick a loopback or docker bridge interface.
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="interfaceName">The interface, e.g. <c>eth0</c>.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithNetworkInterface(this IResourceBuilder<VllmResource> builder, string interfaceName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(interfaceName);
        return builder
            .WithEnvironment("GLOO_SOCKET_IFNAME", interfaceName)
            .WithEnvironment("NCCL_SOCKET_IFNAME", interfaceName);
    }

    /// <summary>Passes a Hugging Face token (<c>HF_TOKEN</c>) for gated models, from a secret parameter.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="token">The secret parameter.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithHuggingFaceToken(this IResourceBuilder<VllmResource> builder, IResourceBuilder<ParameterResource> token)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(token);
        return builder.WithEnvironment("HF_TOKEN", token);
    }

    /// <summary>Requires clients to send <c>Authorization: Bearer &lt;key&gt;</c> (vLLM <c>--api-key</c>), from a secret parameter.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="apiKey">The secret parameter.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithApiKey(this IResourceBuilder<VllmResource> builder, IResourceBuilder<ParameterResource> apiKey)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(apiKey);
        builder.Resource.Arguments.ApiKey = apiKey.Resource;
        return builder;
    }

    /// <summary>Mounts the host folder <paramref name="hostPath"/> at <c>/data</c> (models, shared KV storage).</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="hostPath">The host folder (the guide: <c>/data</c>).</param>
    /// <param name="isReadOnly">Whether the mount is read-only (not with a shared-storage connector, which writes there).</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithDataBindMount(this IResourceBuilder<VllmResource> builder, string hostPath, bool isReadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(hostPath);
        return builder.WithBindMount(hostPath, VllmResource.DataMountPath, isReadOnly);
    }

    /// <summary>Configures KV transfer: <c>--kv-transfer-config</c> and the connector's environment.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="connector">The connector, created for this instance's role.</param>
    /// <returns>The resource builder.</returns>
    /// <exception cref="ArgumentException">The connector was created for another role.</exception>
    public static IResourceBuilder<VllmResource> WithKvConnector(this IResourceBuilder<VllmResource> builder, KvConnector connector)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connector);
        if (connector.Role != builder.Resource.Role)
        {
            throw new ArgumentException(
                $"The connector was created for role {connector.Role}, but '{builder.Resource.Name}' is {builder.Resource.Role}.",
                nameof(connector));
        }

        builder.Resource.KvConnector = connector;
        builder.Resource.Arguments.KvTransferConfigJson = connector.ToJson();
        return builder;
    }

    private static void AddEngineEnvironment(VllmResource resource, IDictionary<string, object> environment)
    {
        var container = resource.Container;
        if (container.GpuIds.Count > 0)
        {
            var visible = container.Privileged
                ? container.GpuIds
                : Enumerable.Range(0, container.GpuIds.Count).ToList();
            environment["CUDA_VISIBLE_DEVICES"] = string.Join(',', visible.Select(i => i.ToString(CultureInfo.InvariantCulture)));
        }

        if (resource.KvConnector is { } connector)
        {
            foreach (var (key, value) in connector.EnvironmentVariables)
            {
                environment[key] = value;
            }
        }
    }
}
