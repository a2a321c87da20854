using System.Globalization;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// <c>PyNcclConnector</c> (vLLM v0 engine, &lt;= ~0.9): prefill and decode form one NCCL group that
/// rendezvouses at <see cref="KvIp"/>:<see cref="KvPort"/> on the producer; the producer waits until
/// <see cref="KvParallelSize"/> members joined (vllm/distributed/kv_transfer/kv_pipe/pynccl_pipe.py).
/// </summary>
public sealed record PyNcclKvConnector : KvConnector
{
    /// <summary>vLLM's default rendezvous port.</summary>
    public const int DefaultKvPort = 14579;

    /// <summary>Creates the connector.</summary>
    /// <param name="role">The instance's role (prefill = kv_producer, decode = kv_consumer).</param>
    /// <param name="kvRank">The instance's rank in the group (0 = prefill in the guide).</param>
    /// <param name="kvParallelSize">The number of members of the group.</param>
    /// <param name="kvIp">The producer's address, reachable by every member.</param>
    /// <param name="kvPort">The rendezvous port.</param>
    public PyNcclKvConnector(PdRole role, int kvRank, int kvParallelSize, string kvIp, int kvPort = DefaultKvPort)
        : base(role)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(kvRank);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvParallelSize, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(kvRank, kvParallelSize);
        ArgumentException.ThrowIfNullOrWhiteSpace(kvIp);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(kvPort, 65535);
        KvRank = kvRank;
        KvParallelSize = kvParallelSize;
        KvIp = kvIp;
        KvPort = kvPort;
    }

    /// <summary><c>kv_rank</c>.</summary>
    public int KvRank { get; }

    /// <summary><c>kv_parallel_size</c>: the number of NCCL members.</summary>
    public int KvParallelSize { get; }

    /// <summary><c>kv_ip</c>: the rendezvous (producer) address.</summary>
    public string KvIp { get; }

    /// <summary><c>kv_port</c>: the rendezvous port.</summary>
    public int KvPort { get; }

    /// <summary><c>kv_buffer_size</c> in bytes, or null for vLLM's default (1e9).</summary>
    public double? KvBufferSize { get; init; }

    /// <inheritdoc/>
    public override KvConnectorKind Kind => KvConnectorKind.PyNccl;

    /// <inheritdoc/>
    public override string KvAddress => KvIp + ":" + KvPort.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override KvTransferConfig ToKvTransferConfig() => new()
    {
        KvConnector = Name,
        KvRole = KvRole,
        KvRank = KvRank,
        KvParallelSize = KvParallelSize,
        KvIp = KvIp,
        KvPort = KvPort,
        KvBufferSize = KvBufferSize,
        KvConnectorExtraConfig = BuildExtraConfig(),
    };
}
