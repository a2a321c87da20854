namespace PdApp.Hosting.Topology;

/// <summary><c>Pd:LMCache</c>: settings of <c>LMCacheConnectorV1</c> with LMCache's NIXL transfer.</summary>
public sealed class PdLMCacheOptions
{
    /// <summary>NIXL receiver port of decode-0 (LMCache's example: 55555); decode j listens on base + j; prefill i sends to decode i mod the decode count.</summary>
    public int ReceiverBasePort { get; set; } = 55555;

    /// <summary><c>LMCACHE_CHUNK_SIZE</c>.</summary>
    public int ChunkSize { get; set; } = 256;

    /// <summary><c>LMCACHE_NIXL_BUFFER_SIZE</c> in bytes.</summary>
    public long BufferSizeBytes { get; set; } = 1L << 30;

    /// <summary><c>LMCACHE_NIXL_BUFFER_DEVICE</c>.</summary>
    public string BufferDevice { get; set; } = "cuda";

    /// <summary><c>PYTHONHASHSEED</c>, identical on every instance.</summary>
    public string PythonHashSeed { get; set; } = "0";
}
