using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;

namespace Aspire.Hosting;

// The vLLM container: entrypoint, privileges, networking, mounts and secrets in its environment.
public static partial class VllmBuilderExtensions
{
    /// <summary>Chooses how the image starts the server (<c>vllm serve</c> or the older <c>api_server</c> module).</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="entrypoint">The flavour.</param>
    /// <param name="binDirectory">
    /// Where the image keeps <c>vllm</c> and <c>python3</c> when its <c>PATH</c> does not lead there (LMCache's image installs
    /// vLLM into <c>/opt/venv</c> and starts <c>/opt/venv/bin/vllm</c> by absolute path); null runs them from the <c>PATH</c>.
    /// </param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithVllmEntrypoint(this IResourceBuilder<VllmResource> builder, VllmEntrypoint entrypoint, string? binDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Container.Entrypoint = entrypoint switch
        {
            VllmEntrypoint.VllmServe or VllmEntrypoint.OpenAiApiServer => entrypoint,
            _ => throw new ArgumentOutOfRangeException(nameof(entrypoint), entrypoint, "Unknown vLLM entrypoint."),
        };
        var executable = entrypoint == VllmEntrypoint.VllmServe ? "vllm" : "python3";
        return builder.WithEntrypoint(string.IsNullOrEmpty(binDirectory) ? executable : $"{binDirectory.TrimEnd('/')}/{executable}");
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
}
