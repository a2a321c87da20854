namespace PdApp.Hosting.Topology;

/// <summary><c>Pd:External</c>: URLs of instances already running (the <c>external</c> backend).</summary>
public sealed class PdExternalOptions
{
    /// <summary>Prefill instances' base URLs (<c>Pd:External:Prefill:0=http://10.0.0.5:8100</c>).</summary>
    public List<string> Prefill { get; set; } = [];

    /// <summary>Decode instances' base URLs.</summary>
    public List<string> Decode { get; set; } = [];
}
