using PdApp.Hosting.Deployment.Model;

namespace PdApp.Hosting.Deployment;

/// <summary>How an engine uses the address held in one of its KV-transfer variables.</summary>
public enum KvAddressUse
{
    /// <summary>
    /// The engine binds a socket to the address (and, for most connectors, also advertises it to its peers). It
    /// must be a numeric IP of the engine itself: libzmq's <c>bind</c> reads a name as a network-interface name,
    /// not a DNS name (zeromq/libzmq#4514; a DNS fallback arrived only with libzmq PR #4561), so a compose service
    /// name or Kubernetes Service name fails to bind.
    /// </summary>
    OwnBindAddress,

    /// <summary>The engine connects to a peer at the address; any name the network resolves works.</summary>
    PeerAddress,
}

/// <summary>
/// The rule "what vLLM binds vs what peers connect to" for the address variables the KV connectors set, read by
/// both deployment writers: a bound address becomes the engine's own IP (a fixed address on the compose network,
/// the pod IP in Kubernetes); a peer address may stay a service name.
/// </summary>
/// <remarks>
/// Per connector, from the vLLM and LMCache sources:
/// <list type="bullet">
/// <item>NixlConnector: <c>VLLM_NIXL_SIDE_CHANNEL_HOST</c> is where the handshake listener binds its ZMQ socket
/// (<c>tcp://host:port</c>, vllm/distributed/kv_transfer/kv_connector/v1/nixl_connector.py) and what the prefill
/// returns as <c>remote_host</c> in <c>kv_transfer_params</c>, which the decode connects to: bound and advertised.</item>
/// <item>P2pNcclConnector: <c>VLLM_HOST_IP</c> is where the engine's ZMQ router binds (<c>ip:kv_port</c>) and what it
/// registers with the proxy (p2p_nccl_engine.py): bound and advertised. <c>proxy_ip</c> in the KV config is the
/// proxy it connects to: a peer address.</item>
/// <item>LMCacheConnectorV1 (LMCache 0.3.x PD backend): the receiver (decode) binds <c>LMCACHE_PD_PEER_HOST</c>, which
/// the app host sets to <c>0.0.0.0</c> (every interface, so no own address is needed); the sender (prefill) learns
/// the receiver per request from the proxy (<c>disagg_spec</c>) and connects to <c>LMCACHE_PD_PROXY_HOST</c>, the
/// proxy: peer addresses only (lmcache/v1/storage_backend/pd_backend.py).</item>
/// <item>PyNcclConnector: <c>kv_ip</c> is the rank-0 rendezvous; torch's TCPStore server listens on every interface
/// and the other rank connects to the name: a peer address (no variable).</item>
/// <item>SharedStorageConnector: no addresses (files under the shared path).</item>
/// </list>
/// Kept small and keyed by variable so that it can later read the connector catalog.
/// </remarks>
public static class KvAddressRule
{
    /// <summary>NIXL's handshake host.</summary>
    public const string NixlSideChannelHost = "VLLM_NIXL_SIDE_CHANNEL_HOST";

    /// <summary>P2pNccl's own address.</summary>
    public const string HostIp = "VLLM_HOST_IP";

    /// <summary>How the engine with <paramref name="environment"/> uses <paramref name="variable"/>; null when it holds no address.</summary>
    /// <param name="variable">The environment variable's name.</param>
    /// <param name="environment">The engine's whole environment (for connectors whose role decides a variable's use).</param>
    /// <returns>The use, or null.</returns>
    public static KvAddressUse? Classify(string variable, IEnumerable<KeyValuePair<string, DeploymentValue>> environment)
    {
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(environment);
        return variable switch
        {
            NixlSideChannelHost or HostIp => KvAddressUse.OwnBindAddress,
            _ => null,
        };
    }

    /// <summary>The variables of <paramref name="environment"/> the engine binds to.</summary>
    /// <param name="environment">The engine's environment.</param>
    /// <returns>The variable names.</returns>
    public static IReadOnlyList<string> OwnBindVariables(IReadOnlyList<KeyValuePair<string, DeploymentValue>> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return [.. environment.Where(e => Classify(e.Key, environment) == KvAddressUse.OwnBindAddress).Select(e => e.Key)];
    }
}
