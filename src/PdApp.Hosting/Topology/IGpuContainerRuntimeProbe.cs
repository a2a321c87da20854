namespace PdApp.Hosting.Topology;

/// <summary>Finds out whether this machine can run GPU containers.</summary>
public interface IGpuContainerRuntimeProbe
{
    /// <summary>Probes the machine.</summary>
    /// <param name="cancellationToken">Cancellation (the caller bounds the probe's time with it).</param>
    /// <returns>Whether GPU containers can run, and what was found.</returns>
    Task<GpuRuntimeProbeResult> ProbeAsync(CancellationToken cancellationToken);
}

/// <summary>The outcome of a <see cref="IGpuContainerRuntimeProbe"/>.</summary>
/// <param name="Available">Whether a container runtime with NVIDIA GPUs was found.</param>
/// <param name="Evidence">What was found, for the log and the dashboard.</param>
public sealed record GpuRuntimeProbeResult(bool Available, string Evidence);
