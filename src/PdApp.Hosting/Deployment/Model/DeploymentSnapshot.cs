namespace PdApp.Hosting.Deployment.Model;

/// <summary>
/// What a deployment writer needs from the app model, read once (<see cref="DeploymentModelReader"/>): the
/// engines, the gateway and the parameters they reference. Writers render this; none of them looks at the
/// <c>Pd</c> options, so the app model stays the single source of truth.
/// </summary>
/// <param name="Engines">The vLLM servers, in declaration order (prefills, then decodes).</param>
/// <param name="Gateway">The PD proxy.</param>
/// <param name="Parameters">Every parameter referenced by an argument or environment value, by name.</param>
public sealed record DeploymentSnapshot(
    IReadOnlyList<DeploymentEngine> Engines,
    DeploymentGateway Gateway,
    IReadOnlyList<DeploymentParameter> Parameters)
{
    /// <summary>The application name used for labels and grouping.</summary>
    public const string ApplicationName = "pdapp";

    /// <summary>Finds an engine by resource name.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The engine, or null.</returns>
    public DeploymentEngine? FindEngine(string name) => Engines.FirstOrDefault(e => e.Name == name);
}
