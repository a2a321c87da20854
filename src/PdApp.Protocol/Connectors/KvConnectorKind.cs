namespace PdApp.Protocol.Connectors;

/// <summary>
/// The KV connectors PdApp supports, one per <c>kv_connector</c> name of vLLM's <c>KVConnectorFactory</c>.
/// <see cref="ConnectorCatalog"/> holds each one's name and <see cref="KvConnectorTraits"/>.
/// </summary>
public enum KvConnectorKind
{
    /// <summary><c>SharedStorageConnector</c>: KV files under a folder both sides see.</summary>
    SharedStorage,

    /// <summary><c>LMCacheConnectorV1</c>: LMCache moves the KV.</summary>
    LMCacheV1,

    /// <summary><c>NixlConnector</c>: decode pulls the KV from prefill over NIXL after the proxy hands it prefill's <c>kv_transfer_params</c>.</summary>
    Nixl,

    /// <summary><c>PyNcclConnector</c> (v0 engine): one NCCL group of prefill and decode.</summary>
    PyNccl,

    /// <summary><c>P2pNcclConnector</c>: xPyD over NCCL, peers named in the request id, instances registered over ZeroMQ.</summary>
    P2pNccl,

    /// <summary><c>MultiConnector</c>: a list of child connectors; loads from the first that has the KV, saves to all.</summary>
    Multi,
}
