using System.Globalization;

namespace PdApp.Hosting.Containers;

/// <summary>
/// The <c>run</c> options and the environment that give a container GPUs, per vendor and container runtime, as
/// CommunityToolkit's <c>WithGPUSupport</c> chooses them:
/// <list type="bullet">
/// <item>NVIDIA on Docker: <c>--gpus all</c> or <c>--gpus "device=0,1"</c> (docs.docker.com, "GPU access");</item>
/// <item>NVIDIA on Podman: CDI devices, <c>--device nvidia.com/gpu=all</c> or one <c>--device nvidia.com/gpu=N</c> per GPU
/// (NVIDIA Container Toolkit, "Support for Container Device Interface");</item>
/// <item>AMD on either: <c>--device /dev/kfd --device /dev/dri --group-add video</c> (ROCm, "Running ROCm Docker containers"):
/// every GPU is visible, so a subset is chosen with <c>HIP_VISIBLE_DEVICES</c> over host indices.</item>
/// </list>
/// </summary>
internal static class GpuDeviceArgs
{
    /// <summary>The variable that restricts the GPUs CUDA uses.</summary>
    public const string CudaVisibleDevices = "CUDA_VISIBLE_DEVICES";

    /// <summary>The variable that restricts the GPUs HIP (ROCm) uses; vLLM on ROCm derives its CUDA_VISIBLE_DEVICES from it.</summary>
    public const string HipVisibleDevices = "HIP_VISIBLE_DEVICES";

    /// <summary>The options giving the GPUs to the container.</summary>
    /// <param name="vendor">The GPU vendor.</param>
    /// <param name="runtime">The container runtime.</param>
    /// <param name="all">Every GPU of the host.</param>
    /// <param name="deviceIds">Host GPU indices when not <paramref name="all"/>; empty for no GPU.</param>
    /// <returns>The options, each flag and value as separate items.</returns>
    public static IReadOnlyList<string> RuntimeArgs(GpuVendor vendor, ContainerRuntimeKind runtime, bool all, IReadOnlyList<int> deviceIds)
    {
        if (!all && deviceIds.Count == 0)
        {
            return [];
        }

        return (vendor, runtime) switch
        {
            (GpuVendor.Amd, _) => ["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video"],
            (GpuVendor.Nvidia, ContainerRuntimeKind.Podman) when all => ["--device", "nvidia.com/gpu=all"],
            (GpuVendor.Nvidia, ContainerRuntimeKind.Podman) => [.. deviceIds.SelectMany(id => new[] { "--device", "nvidia.com/gpu=" + Index(id) })],

            // Docker parses --gpus as CSV, so a list of devices must carry its own quotes: --gpus '"device=0,1"'.
            (GpuVendor.Nvidia, _) when all => ["--gpus", "all"],
            (GpuVendor.Nvidia, _) => ["--gpus", $"\"device={string.Join(',', deviceIds.Select(Index))}\""],
            _ => throw new ArgumentOutOfRangeException(nameof(vendor), vendor, "Unknown GPU vendor."),
        };
    }

    /// <summary>
    /// The variable restricting the GPUs the engine uses when the container is given <paramref name="deviceIds"/>, or
    /// null when it sees exactly those (all GPUs, or none).
    /// </summary>
    /// <param name="vendor">The GPU vendor.</param>
    /// <param name="deviceIds">Host GPU indices.</param>
    /// <param name="privileged">Whether the container runs privileged (and so sees every host GPU).</param>
    /// <returns>The variable's name and value, or null.</returns>
    public static KeyValuePair<string, string>? VisibleDevices(GpuVendor vendor, IReadOnlyList<int> deviceIds, bool privileged)
    {
        if (deviceIds.Count == 0)
        {
            return null;
        }

        // The NVIDIA runtime (Docker --gpus or CDI) passes only the chosen devices and CUDA numbers them from 0; a
        // privileged container sees every host GPU, and AMD's /dev/dri passes them all, so those list host indices.
        return vendor == GpuVendor.Amd
            ? new(HipVisibleDevices, Join(deviceIds))
            : new(CudaVisibleDevices, Join(privileged ? deviceIds : [.. Enumerable.Range(0, deviceIds.Count)]));
    }

    private static string Join(IEnumerable<int> ids) => string.Join(',', ids.Select(Index));

    private static string Index(int id) => id.ToString(CultureInfo.InvariantCulture);
}
