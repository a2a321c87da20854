namespace PdApp.Hosting.Topology;

/// <summary>Turns <c>Pd:Backend</c> into a concrete backend.</summary>
/// <param name="probe">Finds GPU containers on this machine.</param>
public sealed class PdBackendResolver(IGpuContainerRuntimeProbe probe)
{
    /// <summary>Resolves <paramref name="requested"/>.</summary>
    /// <param name="requested">The configured backend.</param>
    /// <param name="isPublishMode">Whether the app host is publishing (a manifest is always for real containers).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <param name="requireGpuRuntime">
    /// Whether an explicit <c>vllm</c> backend in run mode must find GPU containers on this machine
    /// (<c>Pd:CheckGpuRuntime</c>); without them the engines would never start and the proxy would answer 503.
    /// </param>
    /// <returns>The decision.</returns>
    /// <exception cref="PdBackendUnavailableException">vLLM was asked for, checked, and cannot run here.</exception>
    public async Task<PdBackendDecision> ResolveAsync(
        PdBackend requested, bool isPublishMode, CancellationToken cancellationToken, bool requireGpuRuntime = false)
    {
        if (requested == PdBackend.Vllm && requireGpuRuntime && !isPublishMode)
        {
            var gpus = await probe.ProbeAsync(cancellationToken).ConfigureAwait(false);
            if (!gpus.Available)
            {
                throw new PdBackendUnavailableException(
                    $"Pd:Backend is vllm, but this machine cannot run GPU containers: {gpus.Evidence}. " +
                    "Run without GPUs with --Pd:Backend=simulator (or auto), start Docker with the NVIDIA Container Toolkit, " +
                    "or set --Pd:CheckGpuRuntime=false if the GPUs are on a remote container host this check cannot see.");
            }

            return new(requested, $"Pd:Backend is vllm and {gpus.Evidence}");
        }

        if (requested != PdBackend.Auto)
        {
            return new(requested, $"Pd:Backend is {requested.ToString().ToLowerInvariant()}");
        }

        if (isPublishMode)
        {
            return new(PdBackend.Vllm, "Pd:Backend is auto and the app host is publishing: a deployment runs vLLM containers");
        }

        var found = await probe.ProbeAsync(cancellationToken).ConfigureAwait(false);
        return found.Available
            ? new(PdBackend.Vllm, $"Pd:Backend is auto and {found.Evidence}")
            : new(PdBackend.Simulator, $"Pd:Backend is auto and {found.Evidence}; using the embedded simulator");
    }
}
