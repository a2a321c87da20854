using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// <c>MultiConnector</c> (vLLM v1): several connectors at once; KV is loaded from the first child that
/// has it and saved through all of them (vllm/distributed/kv_transfer/kv_connector/v1/multi_connector.py).
/// </summary>
public sealed record MultiKvConnector : KvConnector
{
    /// <summary>Creates the connector.</summary>
    /// <param name="role">The instance's role.</param>
    /// <param name="connectors">The children, in priority order; at least one, none of them a MultiConnector or a v0 connector.</param>
    public MultiKvConnector(PdRole role, IReadOnlyList<KvConnector> connectors)
        : base(role)
    {
        ArgumentNullException.ThrowIfNull(connectors);
        if (connectors.Count == 0)
        {
            throw new ArgumentException("A MultiConnector needs at least one child connector.", nameof(connectors));
        }

        foreach (var child in connectors)
        {
            ArgumentNullException.ThrowIfNull(child, nameof(connectors));
            if (!ConnectorCatalog.Get(child.Kind).CanBeMultiChild)
            {
                throw new ArgumentException($"{child.Name} cannot be a child of a MultiConnector.", nameof(connectors));
            }
        }

        Connectors = connectors;
    }

    /// <summary>The children, in priority order.</summary>
    public IReadOnlyList<KvConnector> Connectors { get; }

    /// <inheritdoc/>
    public override KvConnectorKind Kind => KvConnectorKind.Multi;

    /// <inheritdoc/>
    /// <remarks><c>kv_both</c> as soon as a child runs both ways (NIXL), since the parent decides whether the engine produces.</remarks>
    public override string KvRole => Connectors.Any(c => c.KvRole == KvRoles.Both) ? KvRoles.Both : base.KvRole;

    /// <inheritdoc/>
    public override string? KvAddress => Connectors.Select(c => c.KvAddress).FirstOrDefault(a => a is not null);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> EnvironmentVariables
    {
        get
        {
            var env = new Dictionary<string, string>();
            foreach (var child in Connectors)
            {
                foreach (var (key, value) in child.EnvironmentVariables)
                {
                    env[key] = value;
                }
            }

            return env;
        }
    }

    /// <inheritdoc/>
    public override KvTransferConfig ToKvTransferConfig()
    {
        var children = new JsonArray();
        foreach (var child in Connectors)
        {
            children.Add(JsonSerializer.SerializeToNode(child.ToKvTransferConfig(), KvTransferConfig.SerializerOptions));
        }

        return new()
        {
            KvConnector = Name,
            KvRole = KvRole,
            KvConnectorExtraConfig = BuildExtraConfig(new JsonObject { [KvConnectorExtraConfigKeys.Connectors] = children }),
        };
    }
}
