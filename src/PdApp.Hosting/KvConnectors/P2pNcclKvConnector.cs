using System.Globalization;
using System.Text.Json.Nodes;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// <c>P2pNcclConnector</c> (vLLM v1): xPyD over point-to-point NCCL. Each instance listens for peers on
/// <see cref="KvPort"/> (ZMQ, plus its tensor-parallel rank per worker) and registers with the proxy at
/// <see cref="ProxyIp"/>:<see cref="ProxyPort"/> every few seconds
/// (vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_engine.py;
/// examples/online_serving/disaggregated_serving_p2p_nccl_xpyd).
/// </summary>
public sealed record P2pNcclKvConnector : KvConnector
{
    /// <summary>Creates the connector.</summary>
    /// <param name="role">The instance's role.</param>
    /// <param name="advertisedIp">The address peers and the proxy reach this instance at.</param>
    /// <param name="kvPort">The instance's ZMQ base port (<c>kv_port</c>).</param>
    /// <param name="httpPort">The instance's HTTP port (<c>http_port</c>, equal to <c>--port</c>).</param>
    /// <param name="proxyIp">The proxy's registration address (<c>proxy_ip</c>).</param>
    /// <param name="proxyPort">The proxy's registration port (<c>proxy_port</c>).</param>
    public P2pNcclKvConnector(PdRole role, string advertisedIp, int kvPort, int httpPort, string proxyIp, int proxyPort)
        : base(role)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(advertisedIp);
        ArgumentException.ThrowIfNullOrWhiteSpace(proxyIp);
        ThrowIfNotPort(kvPort);
        ThrowIfNotPort(httpPort);
        ThrowIfNotPort(proxyPort);
        AdvertisedIp = advertisedIp;
        KvPort = kvPort;
        HttpPort = httpPort;
        ProxyIp = proxyIp;
        ProxyPort = proxyPort;
    }

    /// <summary>The address this instance is reached at (exported as <c>VLLM_HOST_IP</c>).</summary>
    public string AdvertisedIp { get; }

    /// <summary><c>kv_port</c>.</summary>
    public int KvPort { get; }

    /// <summary><c>http_port</c>.</summary>
    public int HttpPort { get; }

    /// <summary><c>proxy_ip</c>.</summary>
    public string ProxyIp { get; }

    /// <summary><c>proxy_port</c>.</summary>
    public int ProxyPort { get; }

    /// <summary><c>kv_buffer_size</c> in bytes (vLLM's example: 1e9 on prefill, 8e9 on decode); null for vLLM's default.</summary>
    public double? KvBufferSize { get; init; }

    /// <summary><c>send_type</c>.</summary>
    public P2pNcclSendType SendType { get; init; } = P2pNcclSendType.PutAsync;

    /// <summary><c>nccl_num_channels</c>, or null for vLLM's default (8).</summary>
    public int? NcclNumChannels { get; init; }

    /// <summary><c>mem_pool_size_gb</c>, or null for vLLM's default (32).</summary>
    public int? MemPoolSizeGb { get; init; }

    /// <inheritdoc/>
    public override KvConnectorKind Kind => KvConnectorKind.P2pNccl;

    /// <inheritdoc/>
    public override string KvAddress => AdvertisedIp + ":" + KvPort.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> EnvironmentVariables => new Dictionary<string, string>
    {
        // The engine advertises VLLM_HOST_IP (or its first interface) in its registration and request ids.
        [KvConnectorEnvironment.HostIp] = AdvertisedIp,
    };

    /// <inheritdoc/>
    public override KvTransferConfig ToKvTransferConfig()
    {
        // vLLM's example passes the ports as strings; the engine converts them with int().
        var extra = new JsonObject
        {
            [KvConnectorExtraConfigKeys.ProxyIp] = ProxyIp,
            [KvConnectorExtraConfigKeys.ProxyPort] = ProxyPort.ToString(CultureInfo.InvariantCulture),
            [KvConnectorExtraConfigKeys.HttpPort] = HttpPort.ToString(CultureInfo.InvariantCulture),
            [KvConnectorExtraConfigKeys.SendType] = SendType switch
            {
                P2pNcclSendType.Put => "PUT",
                P2pNcclSendType.Get => "GET",
                _ => "PUT_ASYNC",
            },
        };
        if (NcclNumChannels is { } channels)
        {
            extra["nccl_num_channels"] = channels.ToString(CultureInfo.InvariantCulture);
        }

        if (MemPoolSizeGb is { } pool)
        {
            extra["mem_pool_size_gb"] = pool;
        }

        return new()
        {
            KvConnector = Name,
            KvRole = KvRole,
            KvPort = KvPort,
            KvBufferSize = KvBufferSize,
            KvConnectorExtraConfig = BuildExtraConfig(extra),
        };
    }

    private static void ThrowIfNotPort(int port, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(port))] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535, name);
    }
}
