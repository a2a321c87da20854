using PdApp.Hosting.KvConnectors;
using PdApp.Protocol;

namespace PdApp.Hosting.Topology;

/// <summary>One instance as it will be declared: its layout, its connector and, for the external backend, its URL.</summary>
/// <param name="Layout">Name, role, ports, GPUs.</param>
/// <param name="KvConnector">The instance's connector with peer addresses filled in; null for external instances (configured elsewhere).</param>
/// <param name="ExternalUrl">The URL of an already-running instance (external backend), else null.</param>
public sealed record PdInstancePlan(PdInstanceLayout Layout, KvConnector? KvConnector, Uri? ExternalUrl)
{
    /// <summary>The resource name.</summary>
    public string Name => Layout.Name;

    /// <summary>The role.</summary>
    public PdRole Role => Layout.Role;
}
