namespace PdApp.Protocol;

/// <summary>
/// The <c>kv_connector</c> names vLLM's <c>KVConnectorFactory</c> registers
/// (vllm/distributed/kv_transfer/kv_connector/factory.py): the names of
/// <see cref="Connectors.ConnectorCatalog"/>'s entries, and the only place they are spelled.
/// </summary>
/// <remarks>In the root namespace, as configuration and tests name connectors by these constants.</remarks>
public static class KvConnectorNames
{
    /// <summary>v1: KV written to and read from files under <c>shared_storage_path</c> (vLLM &gt;= 0.8.5).</summary>
    public const string SharedStorage = "SharedStorageConnector";

    /// <summary>v1: LMCache moves the KV (configured by <c>LMCACHE_*</c> env or a yaml file).</summary>
    public const string LMCacheV1 = "LMCacheConnectorV1";

    /// <summary>v1: NIXL; the proxy carries <c>kv_transfer_params</c> from prefill to decode.</summary>
    public const string Nixl = "NixlConnector";

    /// <summary>v0 (vLLM &lt;= ~0.9): 1P1D over a NCCL group rendezvoused at <c>kv_ip:kv_port</c>.</summary>
    public const string PyNccl = "PyNcclConnector";

    /// <summary>v1: xPyD over NCCL, peers named in the request id; instances register with the proxy over ZeroMQ.</summary>
    public const string P2pNccl = "P2pNcclConnector";

    /// <summary>v1: a list of connectors; loads from the first that has the KV, saves to all.</summary>
    public const string Multi = "MultiConnector";

    /// <summary>Every connector PdApp supports.</summary>
    public static IReadOnlyList<string> All => Connectors.ConnectorCatalog.Names;
}
