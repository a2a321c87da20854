namespace PdApp.Hosting.Topology;

/// <summary>What <c>AddPdInstances</c> declared: the plan, the backend decision and one entry per instance.</summary>
/// <param name="Plan">The planned topology.</param>
/// <param name="Decision">The backend and why it was chosen.</param>
/// <param name="Instances">The declared instances, prefills then decodes.</param>
/// <param name="ApiKey">The <c>vllm-api-key</c> parameter when <c>Pd:UseApiKey</c> is set, else null.</param>
public sealed record PdTopology(
    PdTopologyPlan Plan,
    PdBackendDecision Decision,
    IReadOnlyList<PdInstance> Instances,
    Aspire.Hosting.ApplicationModel.IResourceBuilder<Aspire.Hosting.ApplicationModel.ParameterResource>? ApiKey)
{
    /// <summary>
    /// The generated <c>pdapp-registry-secret</c> parameter the simulators sign P2pNccl registrations with and the
    /// proxy checks (<c>Pd:Registry:SharedSecret</c>), or null: only for simulators, since vLLM's engines do not sign.
    /// </summary>
    public Aspire.Hosting.ApplicationModel.IResourceBuilder<Aspire.Hosting.ApplicationModel.ParameterResource>? RegistrySecret { get; init; }
}
