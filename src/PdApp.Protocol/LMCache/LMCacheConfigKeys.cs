namespace PdApp.Protocol.LMCache;

/// <summary>
/// The LMCache 0.3.x settings PD uses, by their key in LMCache's yaml config. LMCache reads each as
/// <c>LMCACHE_&lt;KEY upper-cased&gt;</c> from the environment (lmcache/v1/config.py: <c>_CONFIG_DEFINITIONS</c>
/// and <c>from_env</c>); only defined keys are read, so the 0.2 names (<c>enable_nixl</c>, <c>nixl_role</c>,
/// <c>nixl_receiver_host</c>, <c>nixl_receiver_port</c>) configure nothing in the pinned image. Lists
/// (<c>pd_peer_init_port</c>, <c>nixl_backends</c>) are comma separated (<c>_to_int_list</c>, <c>_to_str_list</c>)
/// and booleans <c>true</c>/<c>1</c> (<c>_to_bool</c>, case-insensitive). The app host writes these and the simulator reads them.
/// </summary>
public static class LMCacheConfigKeys
{
    /// <summary>The environment prefix.</summary>
    public const string EnvironmentPrefix = "LMCACHE_";

    /// <summary><c>LMCACHE_CONFIG_FILE</c>: a yaml file read instead of the environment.</summary>
    public const string ConfigFileVariable = "LMCACHE_CONFIG_FILE";

    /// <summary><c>enable_pd</c>: PD transfer between a sender and a receiver.</summary>
    public const string EnablePd = "enable_pd";

    /// <summary><c>pd_role</c>: <see cref="SenderRole"/> (prefill) or <see cref="ReceiverRole"/> (decode).</summary>
    public const string PdRole = "pd_role";

    /// <summary><c>transfer_channel</c>: <c>nixl</c>, the only channel the PD backend supports.</summary>
    public const string TransferChannel = "transfer_channel";

    /// <summary><c>pd_buffer_size</c>: the transfer buffer, in bytes.</summary>
    public const string PdBufferSize = "pd_buffer_size";

    /// <summary><c>pd_buffer_device</c>: <c>cuda</c> or <c>cpu</c>.</summary>
    public const string PdBufferDevice = "pd_buffer_device";

    /// <summary><c>pd_peer_host</c> (receiver): where it binds its NIXL init and allocation sockets.</summary>
    public const string PdPeerHost = "pd_peer_host";

    /// <summary><c>pd_peer_init_port</c> (receiver): NIXL handshake port per tensor-parallel rank.</summary>
    public const string PdPeerInitPort = "pd_peer_init_port";

    /// <summary><c>pd_peer_alloc_port</c> (receiver): ZMQ REP allocation port per tensor-parallel rank.</summary>
    public const string PdPeerAllocPort = "pd_peer_alloc_port";

    /// <summary><c>pd_proxy_host</c> (sender): where it pushes "KV ready" notifications.</summary>
    public const string PdProxyHost = "pd_proxy_host";

    /// <summary><c>pd_proxy_port</c> (sender): the notification port.</summary>
    public const string PdProxyPort = "pd_proxy_port";

    /// <summary><c>nixl_backends</c>: NIXL backends, e.g. <c>UCX</c>.</summary>
    public const string NixlBackends = "nixl_backends";

    /// <summary><c>chunk_size</c>: tokens per KV chunk.</summary>
    public const string ChunkSize = "chunk_size";

    /// <summary><c>local_cpu</c>: the CPU cache tier (off for pure PD).</summary>
    public const string LocalCpu = "local_cpu";

    /// <summary><c>max_local_cpu_size</c>, GB.</summary>
    public const string MaxLocalCpuSize = "max_local_cpu_size";

    /// <summary><c>max_local_disk_size</c>, GB.</summary>
    public const string MaxLocalDiskSize = "max_local_disk_size";

    /// <summary>The prefill side of the transfer.</summary>
    public const string SenderRole = "sender";

    /// <summary>The decode side of the transfer.</summary>
    public const string ReceiverRole = "receiver";

    /// <summary>The only transfer channel of LMCache's PD backend.</summary>
    public const string NixlChannel = "nixl";

    /// <summary>The environment variable LMCache reads <paramref name="key"/> from.</summary>
    /// <param name="key">A yaml key, e.g. <see cref="EnablePd"/>.</param>
    /// <returns>E.g. <c>LMCACHE_ENABLE_PD</c>.</returns>
    public static string EnvironmentName(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return EnvironmentPrefix + key.ToUpperInvariant();
    }
}
