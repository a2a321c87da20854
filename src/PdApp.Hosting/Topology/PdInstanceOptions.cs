namespace PdApp.Hosting.Topology;

/// <summary>Per-instance overrides (<c>Pd:Prefill:Instances:{i}</c>, <c>Pd:Decode:Instances:{i}</c>); unset values follow the group's defaults.</summary>
public sealed class PdInstanceOptions
{
    /// <summary>HTTP port (<c>--port</c>); default: the group's base port plus the instance index.</summary>
    public int? Port { get; set; }

    /// <summary>Host GPU indices, comma separated (e.g. <c>0,1</c>); default: the next free <c>TensorParallelSize × PipelineParallelSize</c> GPUs.</summary>
    public string? GpuIds { get; set; }

    /// <summary>PyNccl <c>kv_rank</c>; default: prefill i → i, decode j → prefill count + j.</summary>
    public int? KvRank { get; set; }

    /// <summary>P2pNccl <c>kv_port</c>; default: the connector's base port for the role plus index × tensor parallel size.</summary>
    public int? KvPort { get; set; }

    /// <summary>Environment variables for this instance only, over the role's and <c>Pd:Environment</c>.</summary>
    public Dictionary<string, string> Environment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>NIXL side-channel port; default: <c>Pd:Nixl:SideChannelBasePort</c> plus the instance's position × tensor parallel size.</summary>
    public int? SideChannelPort { get; set; }
}
