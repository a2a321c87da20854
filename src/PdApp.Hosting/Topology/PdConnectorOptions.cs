using PdApp.Hosting.KvConnectors;

namespace PdApp.Hosting.Topology;

/// <summary><c>Pd:SharedStorage</c>: settings of <c>SharedStorageConnector</c>.</summary>
public sealed class PdSharedStorageOptions
{
    /// <summary>Where KV files go, as the engines see it; must lie under the <c>/data</c> mount so both sides share it.</summary>
    public string Path { get; set; } = "/data/models/pd_local_storage";
}

/// <summary><c>Pd:PyNccl</c>: settings of <c>PyNcclConnector</c> (vLLM v0).</summary>
public sealed class PdPyNcclOptions
{
    /// <summary><c>kv_parallel_size</c>; default: the number of instances (every one is a NCCL member).</summary>
    public int? KvParallelSize { get; set; }

    /// <summary><c>kv_port</c>: the rendezvous port on the rank-0 instance.</summary>
    public int KvPort { get; set; } = PyNcclKvConnector.DefaultKvPort;

    /// <summary><c>kv_buffer_size</c> in bytes; default: vLLM's (1e9).</summary>
    public double? KvBufferSize { get; set; }
}

/// <summary><c>Pd:P2pNccl</c>: settings of <c>P2pNcclConnector</c>.</summary>
public sealed class PdP2pNcclOptions
{
    /// <summary><c>kv_port</c> of prefill-0 (vLLM's example: 21001).</summary>
    public int PrefillKvBasePort { get; set; } = 21001;

    /// <summary><c>kv_port</c> of decode-0 (vLLM's example: 22001).</summary>
    public int DecodeKvBasePort { get; set; } = 22001;

    /// <summary><c>kv_buffer_size</c> on prefill, in bytes.</summary>
    public double PrefillKvBufferSize { get; set; } = 1e9;

    /// <summary><c>kv_buffer_size</c> on decode, in bytes.</summary>
    public double DecodeKvBufferSize { get; set; } = 8e9;

    /// <summary><c>send_type</c>: <c>Put</c>, <c>Get</c> or <c>PutAsync</c>.</summary>
    public P2pNcclSendType SendType { get; set; } = P2pNcclSendType.PutAsync;

    /// <summary><c>nccl_num_channels</c>; default: vLLM's (8).</summary>
    public int? NcclNumChannels { get; set; }

    /// <summary><c>mem_pool_size_gb</c>; default: vLLM's (32).</summary>
    public int? MemPoolSizeGb { get; set; }
}

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

/// <summary><c>Pd:LMCache</c>: settings of <c>LMCacheConnectorV1</c> with LMCache's NIXL transfer.</summary>
public sealed class PdLMCacheOptions
{
    /// <summary>NIXL receiver port of decode-0 (LMCache's example: 55555); decode j listens on base + j; prefill i sends to decode i mod the decode count.</summary>
    public int ReceiverBasePort { get; set; } = 55555;

    /// <summary><c>LMCACHE_CHUNK_SIZE</c>.</summary>
    public int ChunkSize { get; set; } = 256;

    /// <summary><c>LMCACHE_NIXL_BUFFER_SIZE</c> in bytes.</summary>
    public long BufferSizeBytes { get; set; } = 1L << 30;

    /// <summary><c>LMCACHE_NIXL_BUFFER_DEVICE</c>.</summary>
    public string BufferDevice { get; set; } = "cuda";

    /// <summary><c>PYTHONHASHSEED</c>, identical on every instance.</summary>
    public string PythonHashSeed { get; set; } = "0";
}

/// <summary><c>Pd:Multi</c>: settings of <c>MultiConnector</c>.</summary>
public sealed class PdMultiOptions
{
    /// <summary>The child connectors' names, in priority order (<c>Pd:Multi:Connectors:0</c>, ...); each uses its own section's settings.</summary>
    public List<string> Connectors { get; set; } = [];
}

/// <summary><c>Pd:External</c>: URLs of instances already running (the <c>external</c> backend).</summary>
public sealed class PdExternalOptions
{
    /// <summary>Prefill instances' base URLs (<c>Pd:External:Prefill:0=http://10.0.0.5:8100</c>).</summary>
    public List<string> Prefill { get; set; } = [];

    /// <summary>Decode instances' base URLs.</summary>
    public List<string> Decode { get; set; } = [];
}
