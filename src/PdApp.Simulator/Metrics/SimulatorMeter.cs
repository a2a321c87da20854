using System.Diagnostics.Metrics;
using PdApp.Simulator.Scheduling;

namespace PdApp.Simulator.Metrics;

/// <summary>
/// The engine's state as OpenTelemetry instruments on the <see cref="MeterName"/> meter, so the
/// Aspire dashboard (OTLP) shows what <c>/metrics</c> shows Prometheus: observable instruments read
/// the same counters, nothing is counted twice.
/// </summary>
internal sealed class SimulatorMeter : IDisposable
{
    /// <summary>The meter's name (exported by the service defaults).</summary>
    public const string MeterName = "PdApp.Simulator";

    private readonly Meter _meter;

    /// <summary>The meter (tests tell instances apart by it).</summary>
    internal Meter Meter => _meter;

    /// <summary>Creates the instruments.</summary>
    public SimulatorMeter(IMeterFactory meterFactory, EngineScheduler scheduler, SimulatorMetrics metrics)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableGauge("pdsim.requests.running", () => scheduler.Running, "{request}", "Sequences running (vllm:num_requests_running).");
        _meter.CreateObservableGauge("pdsim.requests.waiting", () => scheduler.Waiting, "{request}", "Requests waiting for a slot (vllm:num_requests_waiting).");
        _meter.CreateObservableGauge("pdsim.kv_cache.usage", () => scheduler.KvUsage, "1", "KV cache usage, 0-1 (vllm:kv_cache_usage_perc).");
        _meter.CreateObservableCounter("pdsim.kv_transfers", () => metrics.KvTransferMeasurements(), "{request}", "KV transfer outcomes by connector (produced, hit, miss).");
        _meter.CreateObservableCounter("pdsim.tokens.prompt", () => metrics.PromptTokens, "{token}", "Prompt tokens processed.");
        _meter.CreateObservableCounter("pdsim.tokens.generated", () => metrics.GenerationTokens, "{token}", "Tokens generated.");
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
