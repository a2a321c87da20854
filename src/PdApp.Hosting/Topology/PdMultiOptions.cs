namespace PdApp.Hosting.Topology;

/// <summary><c>Pd:Multi</c>: settings of <c>MultiConnector</c>.</summary>
public sealed class PdMultiOptions
{
    /// <summary>The child connectors' names, in priority order (<c>Pd:Multi:Connectors:0</c>, ...); each uses its own section's settings.</summary>
    public List<string> Connectors { get; set; } = [];
}
