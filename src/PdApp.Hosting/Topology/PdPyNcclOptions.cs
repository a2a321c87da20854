using PdApp.Hosting.KvConnectors;

namespace PdApp.Hosting.Topology;

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
