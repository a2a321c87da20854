namespace PdApp.Hosting.Topology;

/// <summary>Turns <c>Pd:Backend</c> into a concrete backend.</summary>
/// <param name="probe">Finds GPU containers on this machine.</param>
public sealed class PdBackendResolver(IGpuContainerRuntimeProbe probe)
{
    /// <summary>Resolves <paramref name="requested"/>.</summary>
    /// <param name="requested">The configured backend.</param>
    /// <param name="isPublishMode">Whether the app host is publishing (a manifest is always for real containers).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The decision.</returns>
    public async Task<PdBackendDecision> ResolveAsync(PdBackend requested, bool isPublishMode, CancellationToken cancellationToken)
    {
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
