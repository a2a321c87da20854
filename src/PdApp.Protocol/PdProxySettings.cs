namespace PdApp.Protocol;

/// <summary>
/// Configuration keys the app host writes (as environment variables) and the proxy reads at
/// start-up, so both sides name them once. Keys use ':'; environment variables use '__'.
/// </summary>
public static class PdProxySettings
{
    /// <summary>The proxy's configuration section.</summary>
    public const string Section = "Pd";

    /// <summary>
    /// <c>Pd:Proxy</c>: the proxy's own behaviour (timeouts, admission, balancing, health checks); the app host
    /// forwards its whole <c>Pd:Proxy</c> subsection under the same keys.
    /// </summary>
    public const string Proxy = "Pd:Proxy";

    /// <summary><c>Pd:Connector</c>: the connector name (<see cref="KvConnectorNames"/>), choosing the PD flow.</summary>
    public const string Connector = "Pd:Connector";

    /// <summary><c>Pd:ChildConnectors:{i}</c>: the MultiConnector's children, in order.</summary>
    public const string ChildConnectors = "Pd:ChildConnectors";

    /// <summary><c>Pd:Model</c>: the served model name clients use.</summary>
    public const string Model = "Pd:Model";

    /// <summary><c>Pd:Instances:{i}</c>: one entry per instance with <see cref="InstanceName"/>, <see cref="InstanceRole"/>, <see cref="InstanceAddress"/>.</summary>
    public const string Instances = "Pd:Instances";

    /// <summary>Instance key: resource name (prefill-0, decode-0).</summary>
    public const string InstanceName = "Name";

    /// <summary>Instance key: <see cref="PdRole"/> name.</summary>
    public const string InstanceRole = "Role";

    /// <summary>Instance key: base URL, resolved through service discovery (e.g. <c>http://prefill-0</c>).</summary>
    public const string InstanceAddress = "Address";

    /// <summary>Instance key: the instance's KV address <c>host:port</c> (P2pNccl ZMQ address, PyNccl rendezvous).</summary>
    public const string InstanceKvAddress = "KvAddress";

    /// <summary><c>Pd:Instances:{i}:KvAllocPort</c>: an LMCache receiver's allocation port of rank 0 (<c>pd_peer_alloc_port</c>).</summary>
    public const string InstanceKvAllocPort = "KvAllocPort";

    /// <summary><c>Pd:Instances:{i}:KvRanks</c>: tensor-parallel ranks of an LMCache receiver, each on consecutive ports (default 1).</summary>
    public const string InstanceKvRanks = "KvRanks";

    /// <summary><c>Pd:Registry:Port</c>: port of the P2pNccl ZeroMQ registration socket the proxy binds.</summary>
    public const string RegistryPort = "Pd:Registry:Port";

    /// <summary><c>Pd:Registry:BindAddress</c>: the interface the registry binds (loopback for simulators).</summary>
    public const string RegistryBindAddress = "Pd:Registry:BindAddress";

    /// <summary><c>Pd:Registry:AllowedNetworks:{i}</c>: addresses, networks or host names registrations must announce.</summary>
    public const string RegistryAllowedNetworks = "Pd:Registry:AllowedNetworks";

    /// <summary><c>Pd:Registry:SharedSecret</c>: the secret PdApp-aware senders sign registrations with.</summary>
    public const string RegistrySharedSecret = "Pd:Registry:SharedSecret";

    /// <summary>
    /// <c>Pd:LMCache:NotificationPort</c>: port of the ZeroMQ PULL socket the proxy binds for LMCache senders'
    /// "KV ready" notifications (their <c>pd_proxy_port</c>).
    /// </summary>
    public const string LMCacheNotificationPort = "Pd:LMCache:NotificationPort";

    /// <summary><c>Pd:LMCache:InitPort</c>: receivers' <c>pd_peer_init_port</c> (rank 0) where an instance has no <c>KvAddress</c> (pods found through DNS).</summary>
    public const string LMCacheInitPort = "Pd:LMCache:InitPort";

    /// <summary><c>Pd:LMCache:AllocPort</c>: receivers' <c>pd_peer_alloc_port</c> (rank 0) where an instance has no <c>KvAllocPort</c>.</summary>
    public const string LMCacheAllocPort = "Pd:LMCache:AllocPort";

    /// <summary><c>Pd:LMCache:Ranks</c>: receivers' tensor-parallel ranks where an instance has no <c>KvRanks</c>.</summary>
    public const string LMCacheRanks = "Pd:LMCache:Ranks";

    /// <summary><c>Pd:UpstreamApiKey</c>: the key the instances run with (vLLM <c>--api-key</c>), forwarded upstream.</summary>
    public const string UpstreamApiKey = "Pd:UpstreamApiKey";

    /// <summary><c>Pd:ApiKey</c>: optional key clients must send as <c>Authorization: Bearer</c>.</summary>
    public const string ApiKey = "Pd:ApiKey";

    /// <summary><c>Pd:AdminApiKey</c>: key protecting <c>/admin</c>.</summary>
    public const string AdminApiKey = "Pd:AdminApiKey";

    /// <summary>
    /// <c>Pd:MetricsAccess</c>: who may read the proxy's <c>/metrics</c>: <c>Auto</c> (open while no
    /// key is configured, else a key is required), <c>Open</c>, or <c>Key</c>.
    /// </summary>
    public const string MetricsAccess = "Pd:MetricsAccess";

    /// <summary>
    /// DNS discovery section: <c>{DnsDiscovery}:Prefill|Decode|Both</c> name each role's headless Service and
    /// <c>{DnsDiscovery}:PrefillPort|DecodePort|BothPort</c> (else <c>:Port</c>) its pods' HTTP port.
    /// </summary>
    public const string DnsDiscovery = "Pd:Discovery:Dns";

    /// <summary>The KV event indexer's section (<c>Pd:Proxy:KvCache</c>).</summary>
    public const string KvCache = "Pd:Proxy:KvCache";

    /// <summary><c>Pd:Proxy:KvCache:Enabled</c>: run the KV event indexer.</summary>
    public const string KvCacheEnabled = KvCache + ":Enabled";

    /// <summary><c>Pd:Proxy:KvCache:BlockSize</c>: the engines' <c>--block-size</c>.</summary>
    public const string KvCacheBlockSize = KvCache + ":BlockSize";

    /// <summary>
    /// Per-instance event endpoints: <c>{KvCacheEndpoints}:{instance name}:Endpoint</c> and <c>:ReplayEndpoint</c>
    /// (<c>tcp://host:port</c>).
    /// </summary>
    public const string KvCacheEndpoints = KvCache + ":Endpoints";

    /// <summary>The PUB endpoint key under an instance of <see cref="KvCacheEndpoints"/>.</summary>
    public const string KvCacheEndpoint = "Endpoint";

    /// <summary>The replay endpoint key under an instance of <see cref="KvCacheEndpoints"/>.</summary>
    public const string KvCacheReplayEndpoint = "ReplayEndpoint";

    /// <summary>
    /// For instances not listed under <see cref="KvCacheEndpoints"/> (found by DNS or registration):
    /// <c>{KvCache}:EventsPort</c> / <c>:ReplayPort</c>, or per role <c>{KvCache}:Prefill:EventsPort</c>, <c>:Decode:ReplayPort</c>, ...
    /// </summary>
    public const string KvCacheEventsPort = "EventsPort";

    /// <summary>See <see cref="KvCacheEventsPort"/>.</summary>
    public const string KvCacheReplayPort = "ReplayPort";

    /// <summary>Converts a configuration key to its environment-variable form.</summary>
    /// <param name="key">A key such as <c>Pd:Connector</c>.</param>
    /// <returns>The variable name, e.g. <c>Pd__Connector</c>.</returns>
    public static string ToEnvironmentVariable(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}
