using PdApp.Simulator.Configuration;
using PdApp.Simulator.KvTransfer;

namespace PdApp.Simulator.Faults;

/// <summary>
/// Whether the simulated engine is healthy: not during <c>--fault-slow-start</c> (vLLM is still
/// loading the model), not when marked unhealthy (<c>--fault-unhealthy</c> or the admin endpoint, an
/// engine that died), not before the KV connector is ready (PyNccl waits for its group).
/// </summary>
internal sealed class HealthState(SimulatorOptions options, TimeProvider time, IKvConnectorSimulation connector)
{
    private readonly long _started = time.GetTimestamp();
    private volatile bool _unhealthy = options.Faults.Unhealthy;

    /// <summary>Whether the slow start is still running.</summary>
    public bool Starting => time.GetElapsedTime(_started).TotalSeconds < options.Faults.SlowStartSeconds;

    /// <summary>Whether <c>/health</c> answers 200.</summary>
    public bool IsHealthy => !_unhealthy && !Starting && connector.IsReady;

    /// <summary>Why it is not healthy (for logs and the admin endpoint).</summary>
    public string Describe() =>
        _unhealthy ? "marked unhealthy"
        : Starting ? "slow start in progress"
        : connector is { IsReady: false } ? $"{connector.Name} not ready"
        : "healthy";

    /// <summary>Marks the engine (un)healthy at run time.</summary>
    public void SetUnhealthy(bool unhealthy) => _unhealthy = unhealthy;
}
