using PdApp.Hosting.Containers;

namespace PdApp.Hosting.Deployment.Model;

/// <summary>The GPUs one engine uses.</summary>
/// <param name="All">Every GPU of the host (<c>--gpus all</c>).</param>
/// <param name="DeviceIds">Host GPU indices (<c>--gpus "device=0,1"</c>); empty with <paramref name="All"/>.</param>
/// <param name="Count">How many GPUs the engine needs: the device ids, or tensor × pipeline parallel size when all GPUs are given.</param>
/// <param name="Vendor">Who made the GPUs (NVIDIA unless the engine was given <c>WithGpuVendor</c>).</param>
public sealed record DeploymentGpus(bool All, IReadOnlyList<int> DeviceIds, int Count, GpuVendor Vendor = GpuVendor.Nvidia);
