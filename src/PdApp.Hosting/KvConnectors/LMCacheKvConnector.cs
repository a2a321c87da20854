using System.Globalization;
using System.Text.Json.Nodes;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Protocol.LMCache;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// <c>LMCacheConnectorV1</c> (vLLM v1 with LMCache 0.3.x, as in the pinned <c>lmcache/vllm-openai</c> image):
/// LMCache's PD backend moves the KV from prefill (<c>pd_role: sender</c>) to decode (<c>pd_role: receiver</c>)
/// over NIXL. Per request the proxy names the receiver in <c>kv_transfer_params.disagg_spec</c>
/// (<see cref="LMCacheDisaggSpec"/>) and waits for the sender's <see cref="LMCacheProxyNotification"/> on
/// <c>pd_proxy_host:pd_proxy_port</c> before sending decode. Settings are <c>LMCACHE_*</c> variables named
/// after the keys of LMCache's yaml config (<see cref="LMCacheConfigKeys"/>; source read:
/// lmcache/v1/config.py <c>_CONFIG_DEFINITIONS</c>, lmcache/v1/storage_backend/pd_backend.py <c>PDConfig</c>,
/// examples/disagg_prefill/1p1d configs). The 0.2 names (<c>LMCACHE_ENABLE_NIXL</c>,
/// <c>LMCACHE_NIXL_RECEIVER_HOST</c>, ...) are not read by 0.3.x and would leave PD off.
/// </summary>
public sealed record LMCacheKvConnector : KvConnector
{
    /// <summary>Creates the connector.</summary>
    /// <param name="role">The instance's role: prefill is the sender, decode the receiver.</param>
    /// <param name="rpcPortName">
    /// The <c>lmcache_rpc_port</c> name, unique per instance on a host (vLLM's example: <c>producer1</c>, <c>consumer1</c>).
    /// </param>
    public LMCacheKvConnector(PdRole role, string rpcPortName)
        : base(role)
    {
        if (role == PdRole.Both)
        {
            throw new ArgumentException("LMCache's PD transfer needs a sender (prefill) and a receiver (decode).", nameof(role));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(rpcPortName);
        RpcPortName = rpcPortName;
    }

    /// <summary><c>kv_connector_extra_config.lmcache_rpc_port</c>.</summary>
    public string RpcPortName { get; }

    /// <summary>Receiver: the address the sender (and the proxy's disagg_spec) reaches this decode at.</summary>
    public string? ReceiverHost { get; init; }

    /// <summary>
    /// Receiver: <c>pd_peer_host</c>, where it binds its init and allocation sockets; default every interface, so
    /// senders in other containers or on other hosts reach it by <see cref="ReceiverHost"/>.
    /// </summary>
    public string ReceiverBindHost { get; init; } = "0.0.0.0";

    /// <summary>Receiver: <c>pd_peer_init_port</c> of rank 0; rank r uses this + r.</summary>
    public int InitPort { get; init; }

    /// <summary>Receiver: <c>pd_peer_alloc_port</c> of rank 0; rank r uses this + r.</summary>
    public int AllocPort { get; init; }

    /// <summary>Tensor-parallel ranks: one init and one allocation port each, one notification each.</summary>
    public int Ranks { get; init; } = 1;

    /// <summary>Sender: <c>pd_proxy_host</c>, the proxy's address as the sender reaches it.</summary>
    public string? ProxyHost { get; init; }

    /// <summary>Sender: <c>pd_proxy_port</c>, the proxy's notification port.</summary>
    public int ProxyPort { get; init; }

    /// <summary><c>chunk_size</c>: tokens per KV chunk (LMCache's default 256); equal on both sides.</summary>
    public int ChunkSize { get; init; } = 256;

    /// <summary><c>pd_buffer_size</c> in bytes (the example: 1 GiB).</summary>
    public long BufferSizeBytes { get; init; } = 1L << 30;

    /// <summary><c>pd_buffer_device</c>: <c>cuda</c> or <c>cpu</c>.</summary>
    public string BufferDevice { get; init; } = "cuda";

    /// <summary><c>nixl_backends</c>, comma separated (the example: <c>UCX</c>).</summary>
    public string NixlBackends { get; init; } = "UCX";

    /// <summary>
    /// <c>PYTHONHASHSEED</c>: LMCache keys chunks by Python's <c>hash()</c> of the tokens, which is salted
    /// per process unless the seed is fixed, so prefill and decode must share it.
    /// </summary>
    public string PythonHashSeed { get; init; } = "0";

    /// <summary><c>UCX_TLS</c> for NIXL's UCX backend; null leaves UCX's choice.</summary>
    public string? UcxTransports { get; init; } = "cuda_ipc,cuda_copy,tcp";

    /// <inheritdoc/>
    public override KvConnectorKind Kind => KvConnectorKind.LMCacheV1;

    /// <summary>Receiver: <c>host:init_port</c> the proxy names in each request's disagg_spec.</summary>
    public override string? KvAddress =>
        Role == PdRole.Decode && ReceiverHost is not null ? $"{ReceiverHost}:{InitPort.ToString(CultureInfo.InvariantCulture)}" : null;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> ProxyInstanceSettings => Role == PdRole.Decode
        ? new Dictionary<string, string>
        {
            [PdProxySettings.InstanceKvAllocPort] = AllocPort.ToString(CultureInfo.InvariantCulture),
            [PdProxySettings.InstanceKvRanks] = Ranks.ToString(CultureInfo.InvariantCulture),
        }
        : base.ProxyInstanceSettings;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> EnvironmentVariables
    {
        get
        {
            // LMCache parses booleans with str(value).lower() in ["true", "1"]; its yaml loader writes True/False.
            var env = new Dictionary<string, string>
            {
                [Env(LMCacheConfigKeys.LocalCpu)] = "False",
                [Env(LMCacheConfigKeys.MaxLocalCpuSize)] = "0",
                [Env(LMCacheConfigKeys.MaxLocalDiskSize)] = "0",
                [Env(LMCacheConfigKeys.EnablePd)] = "True",
                [Env(LMCacheConfigKeys.PdRole)] = Role == PdRole.Prefill ? LMCacheConfigKeys.SenderRole : LMCacheConfigKeys.ReceiverRole,
                [Env(LMCacheConfigKeys.TransferChannel)] = LMCacheConfigKeys.NixlChannel,
                [Env(LMCacheConfigKeys.PdBufferSize)] = BufferSizeBytes.ToString(CultureInfo.InvariantCulture),
                [Env(LMCacheConfigKeys.PdBufferDevice)] = BufferDevice,
                [Env(LMCacheConfigKeys.NixlBackends)] = NixlBackends,
                [Env(LMCacheConfigKeys.ChunkSize)] = ChunkSize.ToString(CultureInfo.InvariantCulture),
                ["PYTHONHASHSEED"] = PythonHashSeed,
            };
            if (Role == PdRole.Prefill)
            {
                if (ProxyHost is not null)
                {
                    env[Env(LMCacheConfigKeys.PdProxyHost)] = ProxyHost;
                    env[Env(LMCacheConfigKeys.PdProxyPort)] = ProxyPort.ToString(CultureInfo.InvariantCulture);
                }
            }
            else
            {
                env[Env(LMCacheConfigKeys.PdPeerHost)] = ReceiverBindHost;
                env[Env(LMCacheConfigKeys.PdPeerInitPort)] = Ports(InitPort);
                env[Env(LMCacheConfigKeys.PdPeerAllocPort)] = Ports(AllocPort);
            }

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

    private static string Env(string key) => LMCacheConfigKeys.EnvironmentName(key);

    // One port per tensor-parallel rank, consecutive, comma separated as LMCache's _to_int_list reads them.
    private string Ports(int first) =>
        string.Join(',', Enumerable.Range(first, Math.Max(1, Ranks)).Select(p => p.ToString(CultureInfo.InvariantCulture)));
}
