using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Hosting;

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
        var context = new KvConnectorContext(options, config, environment, identity, scheduler, time, loggers);
        return config.KvConnector switch
        {
            _ => throw new SimulatorArgumentException("--kv-transfer-config", $"Unsupported connector type {config.KvConnector}"),
        };
    }
}
