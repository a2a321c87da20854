namespace PdApp.Hosting.Topology;

/// <summary><c>Pd:Nixl</c>: settings of <c>NixlConnector</c>.</summary>
public sealed class PdNixlOptions
{
    /// <summary>Side-channel port of the first instance (vLLM's default 5600); each instance gets its own.</summary>
    public int SideChannelBasePort { get; set; } = 5600;

    /// <summary><c>UCX_TLS</c>.</summary>
    public string? UcxTransports { get; set; } = "cuda_ipc,cuda_copy,tcp";

    /// <summary><c>UCX_NET_DEVICES</c>; default: UCX's choice.</summary>
    public string? UcxNetDevices { get; set; }

    /// <summary><c>kv_buffer_device</c> (<c>cuda</c> or <c>cpu</c>); default: vLLM's (cuda).</summary>
    public string? KvBufferDevice { get; set; }
}
