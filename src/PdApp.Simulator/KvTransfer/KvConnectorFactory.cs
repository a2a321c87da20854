using System.Text.Json;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Protocol.Vllm;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Hosting;
using PdApp.Simulator.KvTransfer.Connectors;

namespace PdApp.Simulator.KvTransfer;

/// <summary>Builds the simulated connector named by <c>kv_transfer_config.kv_connector</c> (vLLM's KVConnectorFactory).</summary>
internal sealed class KvConnectorFactory(
    SimulatorOptions options,
    SimulatorEnvironment environment,
    InstanceIdentity identity,
    EngineScheduler scheduler,
    TimeProvider time,
    ILoggerFactory loggers)
{
    /// <summary>The connector of this instance; a no-op one without <c>--kv-transfer-config</c>.</summary>
    public IKvConnectorSimulation Create() =>
        options.KvTransfer is { KvConnector: not null } config ? Create(config) : new NoKvConnector();

    /// <summary>Builds a connector for <paramref name="config"/> (MultiConnector children come through here too).</summary>
    public IKvConnectorSimulation Create(KvTransferConfig config)
    {
        if (!ConnectorCatalog.TryGet(config.KvConnector, out var traits))
        {
            throw new SimulatorArgumentException(VllmEngineArguments.KvTransferConfig.Name, $"Unsupported connector type {config.KvConnector}");
        }

        var context = new KvConnectorContext(options, config, environment, identity, scheduler, time, loggers);
        return Create(traits.Kind, context, config);
    }

    /// <summary>The simulation of <paramref name="kind"/>: one arm per catalog entry.</summary>
    private IKvConnectorSimulation Create(KvConnectorKind kind, KvConnectorContext context, KvTransferConfig config) => kind switch
    {
        KvConnectorKind.SharedStorage => new SharedStorageKvConnector(context),
        KvConnectorKind.Nixl => new NixlKvConnector(context),
        KvConnectorKind.P2pNccl => new P2pNcclKvConnector(context),
        KvConnectorKind.PyNccl => new PyNcclKvConnector(context),
        KvConnectorKind.LMCacheV1 => new LmCacheKvConnector(context),
        KvConnectorKind.Multi => new MultiKvConnector(Children(config)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown connector kind."),
    };

    /// <summary>
    /// The MultiConnector's children from <c>kv_connector_extra_config.connectors</c>; a child without
    /// its own <c>kv_role</c> takes the parent's.
    /// </summary>
    private List<IKvConnectorSimulation> Children(KvTransferConfig parent)
    {
        var flag = VllmEngineArguments.KvTransferConfig.Name;
        if (parent.KvConnectorExtraConfig?[KvConnectorExtraConfigKeys.Connectors] is not System.Text.Json.Nodes.JsonArray list || list.Count == 0)
        {
            throw new SimulatorArgumentException(flag, "MultiConnector needs kv_connector_extra_config.connectors, a non-empty list of connector configs");
        }

        var children = new List<IKvConnectorSimulation>(list.Count);
        foreach (var node in list)
        {
            KvTransferConfig child;
            try
            {
                child = node?.Deserialize<KvTransferConfig>(KvTransferConfig.SerializerOptions)
                    ?? throw new System.Text.Json.JsonException("null connector config");
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new SimulatorArgumentException(flag, $"invalid MultiConnector child: {ex.Message}", ex);
            }

            if (!ConnectorCatalog.TryGet(child.KvConnector, out var traits) || traits.IsComposite)
            {
                throw new SimulatorArgumentException(flag, $"unsupported MultiConnector child '{child.KvConnector}'");
            }

            children.Add(Create(child with { KvRole = child.KvRole ?? parent.KvRole, EngineId = child.EngineId ?? parent.EngineId }));
        }

        return children;
    }
}
