using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Hosting;

namespace PdApp.Simulator.KvTransfer;

/// <summary>What every connector needs: its own config, the instance, the engine's block pool, time, logging.</summary>
internal sealed record KvConnectorContext(
    SimulatorOptions Options,
    KvTransferConfig Config,
    SimulatorEnvironment Environment,
    InstanceIdentity Identity,
    EngineScheduler Scheduler,
    TimeProvider Time,
    ILoggerFactory Loggers)
{
    /// <summary>The connector's role.</summary>
    public string Role => Config.KvRole ?? KvRoles.Both;

    /// <summary>A string from <c>kv_connector_extra_config</c>.</summary>
    public string? Extra(string key) => Config.KvConnectorExtraConfig?[key] is { } node
        ? node.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString()
        : null;

    /// <summary>How long a consumer waits for KV pushed asynchronously.</summary>
    public TimeSpan TransferWait => TimeSpan.FromMilliseconds(Options.Timing.KvTransferWaitTimeoutMs);

    /// <summary>The ip this instance advertises to peers (vLLM: <c>VLLM_HOST_IP</c>, else the host's ip; loopback here).</summary>
    public string AdvertisedIp => Environment.Get(KvConnectorEnvironment.HostIp) ?? "127.0.0.1";
}
