using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Hosting.Containers;
using PdApp.Hosting.Manifest;
using PdApp.Protocol;

namespace Aspire.Hosting;

/// <summary>
/// Adds vLLM servers for disaggregated prefill/decode serving to an Aspire application. The extensions are split by
/// concern: the resource itself (this file), engine arguments (<c>.Engine.cs</c>), the container (<c>.Container.cs</c>),
/// GPUs (<c>.Gpu.cs</c>) and KV transfer (<c>.Kv.cs</c>).
/// </summary>
public static partial class VllmBuilderExtensions
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
            .WithEnvironment(context =>
            {
                AddGpuEnvironment(resource, context.EnvironmentVariables);
                AddKvEnvironment(resource, context.EnvironmentVariables);
            })
            .WithContainerRuntimeArgs(context =>
            {
                var runtime = resource.Container.Runtime ?? ContainerRuntimeSelection.FromConfiguration(builder.Configuration);
                foreach (var arg in resource.Container.ToRuntimeArgs(runtime))
                {
                    context.Args.Add(arg);
                }
            })
            .WithManifestPublishingCallback(context => VllmManifestWriter.WriteAsync(context, resource))
            .WithHttpHealthCheck(VllmResource.HealthPath, endpointName: VllmResource.HttpEndpointName)
            .WithVllmDashboardUrls(VllmResource.HttpEndpointName);
    }

    /// <summary>The OpenAI model list, the first link of every engine and of the proxy.</summary>
    public const string ModelsPath = "/v1/models";

    /// <summary>The Prometheus metrics path of vLLM and of the proxy.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// Labels a vLLM-compatible HTTP endpoint in the dashboard: its first link is the model list (the root is a 404), then its
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
            .WithUrlForEndpoint(endpointName, url =>
            {
                // The server's root is a 404 in vLLM; its model list is the useful first link.
                url.Url = url.Url.TrimEnd('/') + ModelsPath;
                url.DisplayText = "OpenAI API (/v1/models)";
            })
            .WithUrl($"{endpoint}{MetricsPath}", "Metrics (/metrics)");
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
}
