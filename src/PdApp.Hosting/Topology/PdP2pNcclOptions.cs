using PdApp.Hosting.KvConnectors;

namespace PdApp.Hosting.Topology;

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
