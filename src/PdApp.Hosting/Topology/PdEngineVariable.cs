namespace PdApp.Hosting.Topology;

/// <summary>One engine environment variable from <c>Pd:Environment</c> (or a role's or instance's).</summary>
/// <param name="Value">The value.</param>
/// <param name="Setting">The configuration path it came from, e.g. <c>Pd:Decode:Environment:NCCL_DEBUG</c>, for messages.</param>
public sealed record PdEngineVariable(string Value, string Setting);
