namespace PdApp.Hosting.Topology;

/// <summary><c>Pd:LMCache</c>: settings of <c>LMCacheConnectorV1</c> with LMCache's PD (NIXL) transfer.</summary>
public sealed class PdLMCacheOptions
{
    /// <summary>
    /// <c>pd_peer_init_port</c> of decode-0, rank 0 (LMCache's example: 7300); decode j's rank r listens on
    /// base + j × TensorParallelSize + r.
    /// </summary>
    public int InitBasePort { get; set; } = 7300;

    /// <summary><c>pd_peer_alloc_port</c> of decode-0, rank 0 (LMCache's example: 7400); laid out as <see cref="InitBasePort"/>.</summary>
    public int AllocBasePort { get; set; } = 7400;

    /// <summary>
    /// <c>pd_proxy_port</c>: where the proxy receives the senders' "KV ready" notifications (LMCache's example: 7500).
    /// </summary>
    public int NotificationPort { get; set; } = 7500;

    /// <summary><c>LMCACHE_CHUNK_SIZE</c>.</summary>
    public int ChunkSize { get; set; } = 256;

    /// <summary><c>LMCACHE_PD_BUFFER_SIZE</c> in bytes.</summary>
    public long BufferSizeBytes { get; set; } = 1L << 30;

    /// <summary><c>LMCACHE_PD_BUFFER_DEVICE</c>.</summary>
    public string BufferDevice { get; set; } = "cuda";

    /// <summary><c>LMCACHE_NIXL_BACKENDS</c>, comma separated.</summary>
    public string NixlBackends { get; set; } = "UCX";

    /// <summary><c>PYTHONHASHSEED</c>, identical on every instance.</summary>
    public string PythonHashSeed { get; set; } = "0";
}
