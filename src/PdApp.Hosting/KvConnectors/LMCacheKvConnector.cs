using System.Globalization;
using System.Text.Json.Nodes;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// <c>LMCacheConnectorV1</c> (vLLM v1 with LMCache): LMCache moves the KV from prefill (NIXL sender) to
/// decode (NIXL receiver at <see cref="ReceiverHost"/>:<see cref="ReceiverPort"/>). LMCache reads its
/// settings from <c>LMCACHE_*</c> environment variables, each the upper-cased name of a key of its yaml
/// config (lmcache/v1/config.py; vLLM examples/others/lmcache/disagg_prefill_lmcache_v1/configs).
/// </summary>
public sealed record LMCacheKvConnector : KvConnector
{
    /// <summary>Creates the connector.</summary>
    /// <param name="role">The instance's role: prefill is the NIXL sender, decode the receiver.</param>
    /// <param name="receiverHost">The receiving (decode) instance's address, reachable from the sender.</param>
    /// <param name="receiverPort">The receiver's NIXL port.</param>
    /// <param name="rpcPortName">
    /// The <c>lmcache_rpc_port</c> name, unique per instance on a host (vLLM's example: <c>producer1</c>, <c>consumer1</c>).
    /// </param>
    public LMCacheKvConnector(PdRole role, string receiverHost, int receiverPort, string rpcPortName)
        : base(role)
    {
        if (role == PdRole.Both)
        {
            throw new ArgumentException("LMCache's NIXL transfer needs a sender (prefill) and a receiver (decode).", nameof(role));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(receiverHost);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(receiverPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(receiverPort, 65535);
        ArgumentException.ThrowIfNullOrWhiteSpace(rpcPortName);
        ReceiverHost = receiverHost;
        ReceiverPort = receiverPort;
        RpcPortName = rpcPortName;
    }

    /// <summary><c>LMCACHE_NIXL_RECEIVER_HOST</c>.</summary>
    public string ReceiverHost { get; }

    /// <summary><c>LMCACHE_NIXL_RECEIVER_PORT</c>.</summary>
    public int ReceiverPort { get; }

    /// <summary><c>kv_connector_extra_config.lmcache_rpc_port</c>.</summary>
    public string RpcPortName { get; }

    /// <summary><c>LMCACHE_CHUNK_SIZE</c>: tokens per KV chunk (LMCache's default 256); equal on both sides.</summary>
    public int ChunkSize { get; init; } = 256;

    /// <summary><c>LMCACHE_NIXL_BUFFER_SIZE</c> in bytes (the example: 1 GiB).</summary>
    public long BufferSizeBytes { get; init; } = 1L << 30;

    /// <summary><c>LMCACHE_NIXL_BUFFER_DEVICE</c>: <c>cuda</c> or <c>cpu</c>.</summary>
    public string BufferDevice { get; init; } = "cuda";

    /// <summary>
    /// <c>PYTHONHASHSEED</c>: LMCache keys chunks by Python's <c>hash()</c> of the tokens, which is salted
    /// per process unless the seed is fixed, so prefill and decode must share it.
    /// </summary>
    public string PythonHashSeed { get; init; } = "0";

    /// <summary><c>UCX_TLS</c> for NIXL's UCX backend; null leaves UCX's choice.</summary>
    public string? UcxTransports { get; init; } = "cuda_ipc,cuda_copy,tcp";

    /// <inheritdoc/>
    public override KvConnectorKind Kind => KvConnectorKind.LMCacheV1;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> EnvironmentVariables
    {
        get
        {
            // LMCache parses booleans from "True"/"False", as its yaml loader writes them.
            var env = new Dictionary<string, string>
            {
                ["LMCACHE_LOCAL_CPU"] = "False",
                ["LMCACHE_MAX_LOCAL_CPU_SIZE"] = "0",
                ["LMCACHE_MAX_LOCAL_DISK_SIZE"] = "0",
                ["LMCACHE_ENABLE_NIXL"] = "True",
                ["LMCACHE_NIXL_ROLE"] = Role == PdRole.Prefill ? "sender" : "receiver",
                ["LMCACHE_NIXL_RECEIVER_HOST"] = ReceiverHost,
                ["LMCACHE_NIXL_RECEIVER_PORT"] = ReceiverPort.ToString(CultureInfo.InvariantCulture),
                ["LMCACHE_NIXL_BUFFER_SIZE"] = BufferSizeBytes.ToString(CultureInfo.InvariantCulture),
                ["LMCACHE_NIXL_BUFFER_DEVICE"] = BufferDevice,
                ["LMCACHE_NIXL_ENABLE_GC"] = "True",
                ["LMCACHE_CHUNK_SIZE"] = ChunkSize.ToString(CultureInfo.InvariantCulture),
                ["PYTHONHASHSEED"] = PythonHashSeed,
            };
            if (UcxTransports is not null)
            {
                env["UCX_TLS"] = UcxTransports;
            }

            return env;
        }
    }

    /// <inheritdoc/>
    public override KvTransferConfig ToKvTransferConfig() => new()
    {
        KvConnector = Name,
        KvRole = KvRole,
        KvConnectorExtraConfig = BuildExtraConfig(new JsonObject
        {
            // Partial last chunks are recomputed on decode rather than transferred (vLLM's example).
            ["discard_partial_chunks"] = false,
            ["lmcache_rpc_port"] = RpcPortName,
        }),
    };
}
