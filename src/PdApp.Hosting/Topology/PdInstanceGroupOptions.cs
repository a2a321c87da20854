namespace PdApp.Hosting.Topology;

/// <summary>The prefill or decode instances (<c>Pd:Prefill</c>, <c>Pd:Decode</c>).</summary>
public sealed class PdInstanceGroupOptions
{
    /// <summary>Number of instances (the x and y of xPyD).</summary>
    public int Count { get; set; } = 1;

    /// <summary>Port of instance 0; instance i listens on <c>BasePort + i</c> unless overridden.</summary>
    public int BasePort { get; set; }

    /// <summary>Environment variables for this role's engines, over <c>Pd:Environment</c>.</summary>
    public Dictionary<string, string> Environment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per-instance overrides, by index.</summary>
    public List<PdInstanceOptions> Instances { get; set; } = [];
}
