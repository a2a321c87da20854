using System.Text.Json.Nodes;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// One instance's KV connector: what it passes as <c>--kv-transfer-config</c> (vllm/config/kv_transfer.py,
/// <c>KVTransferConfig</c>) and the environment the connector reads.
/// </summary>
public abstract record KvConnector
{
    /// <summary>Creates a connector for an instance in <paramref name="role"/>.</summary>
    /// <param name="role">The instance's role.</param>
    protected KvConnector(PdRole role)
    {
        Role = role;
    }

    /// <summary>The instance's role.</summary>
    public PdRole Role { get; }

    /// <summary>The connector, whose <see cref="KvConnectorTraits"/> the catalog holds.</summary>
    public abstract KvConnectorKind Kind { get; }

    /// <summary>The <c>kv_connector</c> name (<see cref="KvConnectorNames"/>).</summary>
    public string Name => ConnectorCatalog.Get(Kind).Name;

    /// <summary>The <c>kv_role</c> written to the config; by default the role's producer/consumer mapping.</summary>
    public virtual string KvRole => Role.ToKvRole();

    /// <summary>
    /// Additional <c>kv_connector_extra_config</c> entries given by the user; merged over the
    /// connector's own entries.
    /// </summary>
    public IReadOnlyDictionary<string, string> ExtraConfig { get; init; } = new Dictionary<string, string>();

    /// <summary>Environment variables the connector (or the library behind it) reads in the engine's process.</summary>
    public virtual IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = new Dictionary<string, string>();

    /// <summary>The instance's KV address <c>host:port</c> the proxy needs (P2pNccl, PyNccl), or null.</summary>
    public virtual string? KvAddress => null;

    /// <summary>
    /// More per-instance settings the proxy needs beyond <see cref="KvAddress"/>, keyed relative to
    /// <c>Pd:Instances:{i}</c> (LMCache receivers: <c>KvAllocPort</c>, <c>KvRanks</c>); empty by default.
    /// </summary>
    public virtual IReadOnlyDictionary<string, string> ProxyInstanceSettings { get; } = new Dictionary<string, string>();

    /// <summary>The configuration vLLM parses.</summary>
    /// <returns>The config.</returns>
    public abstract KvTransferConfig ToKvTransferConfig();

    /// <summary>The compact JSON passed to <c>--kv-transfer-config</c>.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => ToKvTransferConfig().ToJson();

    /// <summary>Builds <c>kv_connector_extra_config</c> from the connector's own entries and <see cref="ExtraConfig"/>; null when empty.</summary>
    /// <param name="own">The connector's own entries.</param>
    /// <returns>The object, or null so the field is left out.</returns>
    protected JsonObject? BuildExtraConfig(JsonObject? own = null)
    {
        var result = own ?? [];
        foreach (var (key, value) in ExtraConfig)
        {
            result[key] = value;
        }

        return result.Count == 0 ? null : result;
    }
}
