using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Hosting.Containers;

namespace Aspire.Hosting;

// GPUs for vLLM containers, written for the vendor and the container runtime.
public static partial class VllmBuilderExtensions
{
    /// <summary>Gives the container every GPU of the host (<c>--gpus all</c> on Docker; see <see cref="WithGpuVendor"/> for Podman and AMD).</summary>
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
    /// Gives the container the host GPUs <paramref name="deviceIds"/> (<c>--gpus "device=0,1"</c> on Docker,
    /// <c>--device nvidia.com/gpu=0</c> per GPU on Podman; see <see cref="WithGpuVendor"/>) and sets
    /// <c>CUDA_VISIBLE_DEVICES</c> (AMD: <c>HIP_VISIBLE_DEVICES</c>) accordingly.
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="deviceIds">Host GPU indices, at least one, no duplicates.</param>
    /// <returns>The resource builder.</returns>
    /// <remarks>
    /// The NVIDIA runtime (Docker or CDI) renumbers the devices it passes from 0, so <c>CUDA_VISIBLE_DEVICES</c> lists
    /// container indices; a privileged container sees every host GPU, so there it lists the host indices
    /// (what the vLLM PD guide does with <c>--privileged</c>), as <c>HIP_VISIBLE_DEVICES</c> does for AMD, whose
    /// <c>/dev/dri</c> holds every GPU.
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

    /// <summary>
    /// Sets who made the GPUs given with <see cref="WithGpus(IResourceBuilder{VllmResource})"/> (default NVIDIA): NVIDIA GPUs
    /// are passed with <c>--gpus</c> on Docker and as CDI devices (<c>--device nvidia.com/gpu=N</c>) on Podman, AMD GPUs as
    /// <c>--device /dev/kfd --device /dev/dri --group-add video</c> with <c>HIP_VISIBLE_DEVICES</c> choosing the subset.
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="vendor">The vendor.</param>
    /// <returns>The resource builder.</returns>
    /// <exception cref="ArgumentException">The vendor is not a <see cref="GpuVendor"/> value.</exception>
    /// <remarks>AMD GPUs need a ROCm build of vLLM: set the image too (<c>WithImage</c>, or <c>Pd:Image</c>).</remarks>
    public static IResourceBuilder<VllmResource> WithGpuVendor(this IResourceBuilder<VllmResource> builder, GpuVendor vendor)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!Enum.IsDefined(vendor))
        {
            throw new ArgumentException($"Unknown GPU vendor {vendor}; use {GpuVendor.Nvidia} or {GpuVendor.Amd}.", nameof(vendor));
        }

        builder.Resource.Container.GpuVendor = vendor;
        return builder;
    }

    /// <summary>
    /// Writes the GPU options for <paramref name="runtime"/> instead of the runtime Aspire is configured with
    /// (<c>ASPIRE_CONTAINER_RUNTIME</c>, <c>DOTNET_ASPIRE_CONTAINER_RUNTIME</c> or <c>DcpPublisher:ContainerRuntime</c>; Docker by default).
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="runtime">The runtime.</param>
    /// <returns>The resource builder.</returns>
    /// <exception cref="ArgumentException">The runtime is not a <see cref="ContainerRuntimeKind"/> value.</exception>
    public static IResourceBuilder<VllmResource> WithContainerRuntime(this IResourceBuilder<VllmResource> builder, ContainerRuntimeKind runtime)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!Enum.IsDefined(runtime))
        {
            throw new ArgumentException($"Unknown container runtime {runtime}; use {ContainerRuntimeKind.Docker} or {ContainerRuntimeKind.Podman}.", nameof(runtime));
        }

        builder.Resource.Container.Runtime = runtime;
        return builder;
    }

    private static void AddGpuEnvironment(VllmResource resource, IDictionary<string, object> environment)
    {
        var container = resource.Container;
        if (GpuDeviceArgs.VisibleDevices(container.GpuVendor, [.. container.GpuIds], container.Privileged) is { } visible)
        {
            environment[visible.Key] = visible.Value;
        }
    }
}
