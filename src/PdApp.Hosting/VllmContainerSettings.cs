using System.Globalization;
using PdApp.Hosting.Containers;

namespace PdApp.Hosting;

/// <summary>
/// What <c>docker run</c> needs beyond image and arguments for a GPU inference server, as the vLLM
/// PD guide runs it: GPUs, shared memory, locked memory, privileges and networking.
/// </summary>
public sealed class VllmContainerSettings
{
    /// <summary>The image flavour, choosing the entrypoint.</summary>
    public VllmEntrypoint Entrypoint { get; set; } = VllmEntrypoint.VllmServe;

    /// <summary>Whether every GPU of the host is given to the container (<c>--gpus all</c>).</summary>
    public bool AllGpus { get; set; }

    /// <summary>Host GPU indices given to the container (<c>--gpus "device=0,1"</c>); empty with <see cref="AllGpus"/> or no GPU.</summary>
    public IList<int> GpuIds { get; } = [];

    /// <summary>Who made the GPUs (default NVIDIA); decides the device options and the visible-devices variable.</summary>
    public GpuVendor GpuVendor { get; set; } = GpuVendor.Nvidia;

    /// <summary>The container runtime the options are written for; null: the one Aspire is configured with (<see cref="ContainerRuntimeSelection"/>).</summary>
    public ContainerRuntimeKind? Runtime { get; set; }

    /// <summary>
    /// <c>--ipc=host</c>: PyTorch shares tensors between worker processes through shared memory, which
    /// Docker's default 64 MB <c>/dev/shm</c> is far too small for (vLLM docs, "Using Docker").
    /// </summary>
    public bool HostIpc { get; set; } = true;

    /// <summary><c>--ulimit memlock=-1</c>: NCCL and RDMA pin (lock) buffers.</summary>
    public bool UnlimitedMemlock { get; set; } = true;

    /// <summary><c>--ulimit stack=67108864</c>, as the guide sets it.</summary>
    public long? StackLimitBytes { get; set; } = 67108864;

    /// <summary><c>--privileged</c> (the guide's PyNccl recipe uses it for device access).</summary>
    public bool Privileged { get; set; }

    /// <summary>Capabilities added with <c>--cap-add</c> (the guide adds <c>SYS_PTRACE</c> for CUDA IPC between processes).</summary>
    public ISet<string> Capabilities { get; } = new SortedSet<string>(StringComparer.Ordinal);

    /// <summary><c>--network=host</c>: the container uses the host's network stack (NCCL/NIXL peers on other hosts reach it directly).</summary>
    public bool HostNetwork { get; set; }

    /// <summary>The <c>run</c> options these settings stand for on <paramref name="runtime"/>, in a stable order.</summary>
    /// <param name="runtime">The container runtime (GPU options differ between Docker and Podman).</param>
    /// <returns>The options, each flag and value as separate items.</returns>
    public IReadOnlyList<string> ToRuntimeArgs(ContainerRuntimeKind runtime)
    {
        var args = new List<string>(GpuDeviceArgs.RuntimeArgs(GpuVendor, runtime, AllGpus, [.. GpuIds]));
        if (HostIpc)
        {
            args.Add("--ipc=host");
        }

        if (UnlimitedMemlock)
        {
            args.AddRange(["--ulimit", "memlock=-1"]);
        }

        if (StackLimitBytes is { } stack)
        {
            args.AddRange(["--ulimit", "stack=" + stack.ToString(CultureInfo.InvariantCulture)]);
        }

        if (Privileged)
        {
            args.Add("--privileged");
        }

        foreach (var capability in Capabilities)
        {
            args.Add("--cap-add=" + capability);
        }

        if (HostNetwork)
        {
            args.Add("--network=host");
        }

        return args;
    }
}
