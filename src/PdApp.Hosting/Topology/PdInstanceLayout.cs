using PdApp.Protocol;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Where one instance sits: name, role, ports and GPUs, derived from <see cref="PdOptions"/> before any
/// backend is chosen (so validation sees exactly what will run).
/// </summary>
/// <param name="Name">Resource name (<c>prefill-0</c>, <c>decode-1</c>).</param>
/// <param name="Role">The role.</param>
/// <param name="Index">Index within its role.</param>
/// <param name="Position">Index among all instances (prefills first).</param>
/// <param name="SettingPath">The configuration path of its overrides, e.g. <c>Pd:Prefill:Instances:0</c>.</param>
/// <param name="Port">HTTP port.</param>
/// <param name="GpuIds">Host GPU indices.</param>
public sealed record PdInstanceLayout(
    string Name,
    PdRole Role,
    int Index,
    int Position,
    string SettingPath,
    int Port,
    IReadOnlyList<int> GpuIds)
{
    /// <summary>PyNccl <c>kv_rank</c>.</summary>
    public int KvRank { get; init; }

    /// <summary>P2pNccl <c>kv_port</c> (the first of <c>TensorParallelSize</c> consecutive ports).</summary>
    public int KvPort { get; init; }

    /// <summary>NIXL side-channel port (the first of <c>TensorParallelSize</c> consecutive ports).</summary>
    public int SideChannelPort { get; init; }

    /// <summary>The setting <see cref="Port"/> comes from (the override, else the group's base port), for messages.</summary>
    public string PortSetting { get; init; } = string.Empty;

    /// <summary>The setting <see cref="KvPort"/> comes from.</summary>
    public string KvPortSetting { get; init; } = string.Empty;

    /// <summary>The setting <see cref="SideChannelPort"/> comes from.</summary>
    public string SideChannelPortSetting { get; init; } = string.Empty;

    /// <summary>
    /// Free-form environment variables for this engine (<c>Pd:Environment</c>, the role's, the instance's;
    /// the narrowest wins), each with the setting it came from.
    /// </summary>
    public IReadOnlyDictionary<string, PdEngineVariable> Environment { get; init; } = new Dictionary<string, PdEngineVariable>();

    /// <summary>KV events PUB port (<c>Pd:KvEvents:BasePort</c> onwards, by position).</summary>
    public int KvEventsPort { get; init; }

    /// <summary>KV events ROUTER replay port (the one after <see cref="KvEventsPort"/>), or 0 without replay.</summary>
    public int KvEventsReplayPort { get; init; }

    /// <summary>LMCache receiver <c>pd_peer_init_port</c> of rank 0 (decode instances; 0 otherwise).</summary>
    public int LMCacheInitPort { get; init; }

    /// <summary>LMCache receiver <c>pd_peer_alloc_port</c> of rank 0 (decode instances; 0 otherwise).</summary>
    public int LMCacheAllocPort { get; init; }
}
