namespace PdApp.Protocol.Connectors;

/// <summary>
/// Environment variables the connectors read in the engine's process (vllm/envs.py, LMCache's config),
/// set by the app host and read by the simulator.
/// </summary>
public static class KvConnectorEnvironment
{
    /// <summary>The address the engine advertises to peers (P2pNccl registrations and request ids).</summary>
    public const string HostIp = "VLLM_HOST_IP";

    /// <summary>NIXL: the address peers reach the side channel at.</summary>
    public const string NixlSideChannelHost = "VLLM_NIXL_SIDE_CHANNEL_HOST";

    /// <summary>NIXL: the side channel's port.</summary>
    public const string NixlSideChannelPort = "VLLM_NIXL_SIDE_CHANNEL_PORT";

    /// <summary>LMCache: every setting is <c>LMCACHE_</c> and the upper-cased key of its yaml config.</summary>
    public const string LMCachePrefix = "LMCACHE_";
}
