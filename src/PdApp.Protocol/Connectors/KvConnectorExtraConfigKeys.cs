namespace PdApp.Protocol.Connectors;

/// <summary>
/// Keys of <c>kv_connector_extra_config</c> in <c>--kv-transfer-config</c> (<see cref="KvTransferConfig"/>)
/// that the app host writes and the simulator reads, named as vLLM's connectors read them.
/// </summary>
public static class KvConnectorExtraConfigKeys
{
    /// <summary>SharedStorage: the folder of the KV files (vLLM's default <c>/tmp</c>).</summary>
    public const string SharedStoragePath = "shared_storage_path";

    /// <summary>P2pNccl: the proxy's registration address.</summary>
    public const string ProxyIp = "proxy_ip";

    /// <summary>P2pNccl: the proxy's registration port.</summary>
    public const string ProxyPort = "proxy_port";

    /// <summary>P2pNccl: the instance's HTTP port, advertised in its registration.</summary>
    public const string HttpPort = "http_port";

    /// <summary>P2pNccl: <c>PUT</c>, <c>GET</c> or <c>PUT_ASYNC</c>.</summary>
    public const string SendType = "send_type";

    /// <summary>MultiConnector: the children's configs, in priority order.</summary>
    public const string Connectors = "connectors";
}
