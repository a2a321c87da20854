namespace PdApp.Hosting.Deployment;

/// <summary>
/// The UCX transports NIXL (and LMCache's NIXL channel) can use between deployed engines. UCX's <c>cuda_ipc</c>
/// maps a peer GPU's memory through CUDA IPC, which needs both processes to see both GPUs; each deployed engine
/// container or pod sees only its own GPU(s) (compose <c>device_ids</c>, the device plugin), so between engines
/// the KV moves over <c>tcp</c> (or RDMA transports such as <c>rc</c>, when listed and the nodes have them),
/// staged through <c>cuda_copy</c>. The writers drop <c>cuda_ipc</c> so the transport used is the one written.
/// </summary>
public static class UcxTransports
{
    /// <summary>The variable.</summary>
    public const string Variable = "UCX_TLS";

    private const string CudaIpc = "cuda_ipc";

    /// <summary><paramref name="value"/> without <c>cuda_ipc</c> (unchanged when it is the only transport).</summary>
    /// <param name="value">A <c>UCX_TLS</c> value such as <c>cuda_ipc,cuda_copy,tcp</c>.</param>
    /// <returns>The transports usable between separate containers.</returns>
    public static string ForSeparateContainers(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var transports = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var kept = transports.Where(t => !t.Equals(CudaIpc, StringComparison.OrdinalIgnoreCase)).ToList();
        return kept.Count > 0 ? string.Join(',', kept) : value;
    }
}
