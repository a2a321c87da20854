namespace PdApp.Hosting.Topology;

/// <summary>The backend chosen for <c>Pd:Backend</c> and why.</summary>
/// <param name="Backend">The backend (never <see cref="PdBackend.Auto"/>).</param>
/// <param name="Reason">Why, in words (logged and shown in the dashboard).</param>
public sealed record PdBackendDecision(PdBackend Backend, string Reason);
