using System.Text.Json.Nodes;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// <c>SharedStorageConnector</c> (vLLM v1, &gt;= 0.8.5): prefill writes each prompt's KV to files under
/// <see cref="SharedStoragePath"/>, keyed by a hash of its token ids; decode reads them. Both sides must
/// see the same folder (vllm/distributed/kv_transfer/kv_connector/v1/shared_storage_connector.py).
/// </summary>
public sealed record SharedStorageKvConnector : KvConnector
{
    /// <summary>Creates the connector.</summary>
    /// <param name="role">The instance's role.</param>
    /// <param name="sharedStoragePath">The folder, as the engine sees it (e.g. <c>/data/models/pd_local_storage</c>).</param>
    public SharedStorageKvConnector(PdRole role, string sharedStoragePath)
        : base(role)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sharedStoragePath);
        SharedStoragePath = sharedStoragePath;
    }

    /// <summary>The folder holding the KV files (<c>shared_storage_path</c>; vLLM's default is <c>/tmp</c>).</summary>
    public string SharedStoragePath { get; }

    /// <inheritdoc/>
    public override KvConnectorKind Kind => KvConnectorKind.SharedStorage;

    /// <inheritdoc/>
    public override KvTransferConfig ToKvTransferConfig() => new()
    {
        KvConnector = Name,
        KvRole = KvRole,
        KvConnectorExtraConfig = BuildExtraConfig(new JsonObject { [KvConnectorExtraConfigKeys.SharedStoragePath] = SharedStoragePath }),
    };
}
