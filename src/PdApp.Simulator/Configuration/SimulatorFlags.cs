using PdApp.Protocol.Vllm;

namespace PdApp.Simulator.Configuration;

/// <summary>
/// The simulator's own flags, next to vLLM's (<see cref="VllmEngineArguments"/>): its identity, its
/// timing model and the faults it injects.
/// </summary>
internal static class SimulatorFlags
{
    public static VllmFlag InstanceName { get; } = new("--instance-name", VllmFlagArity.One);

    public static VllmFlag TimeToFirstToken { get; } = new("--time-to-first-token", VllmFlagArity.One);

    public static VllmFlag PrefillTimePerToken { get; } = new("--prefill-time-per-token", VllmFlagArity.One);

    public static VllmFlag InterTokenLatency { get; } = new("--inter-token-latency", VllmFlagArity.One);

    public static VllmFlag KvCacheTransferLatency { get; } = new("--kv-cache-transfer-latency", VllmFlagArity.One);

    public static VllmFlag KvCacheTransferTimePerToken { get; } = new("--kv-cache-transfer-time-per-token", VllmFlagArity.One);

    public static VllmFlag KvTransferWaitTimeout { get; } = new("--kv-transfer-wait-timeout", VllmFlagArity.One);

    public static VllmFlag TimeFactorUnderLoad { get; } = new("--time-factor-under-load", VllmFlagArity.One);

    public static VllmFlag KvCacheSize { get; } = new("--kv-cache-size", VllmFlagArity.One);

    public static VllmFlag PrefillContention { get; } = new("--prefill-contention", VllmFlagArity.None);

    /// <summary>vLLM's step token budget, honoured by the simulator (vLLM lists it as engine-only).</summary>
    public static VllmFlag MaxNumBatchedTokens { get; } = new("--max-num-batched-tokens", VllmFlagArity.One);

    public static VllmFlag NoPrefillInterference { get; } = new("--no-prefill-interference", VllmFlagArity.None);

    public static VllmFlag FailureInjectionRate { get; } = new("--failure-injection-rate", VllmFlagArity.One);

    public static VllmFlag FailureTypes { get; } = new("--failure-types", VllmFlagArity.Many);

    public static VllmFlag FaultAddedLatency { get; } = new("--fault-added-latency", VllmFlagArity.One);

    public static VllmFlag FaultAbortAfterTokens { get; } = new("--fault-abort-after-tokens", VllmFlagArity.One);

    public static VllmFlag FaultErrorAfterTokens { get; } = new("--fault-error-after-tokens", VllmFlagArity.One);

    public static VllmFlag FaultSlowStart { get; } = new("--fault-slow-start", VllmFlagArity.One);

    public static VllmFlag FaultUnhealthy { get; } = new("--fault-unhealthy", VllmFlagArity.None);

    /// <summary>Every simulator flag.</summary>
    public static IReadOnlyList<VllmFlag> All { get; } =
    [
        InstanceName, TimeToFirstToken, PrefillTimePerToken, InterTokenLatency, KvCacheTransferLatency,
        KvCacheTransferTimePerToken, KvTransferWaitTimeout, TimeFactorUnderLoad, KvCacheSize, PrefillContention,
        MaxNumBatchedTokens, NoPrefillInterference,
        FailureInjectionRate, FailureTypes, FaultAddedLatency, FaultAbortAfterTokens, FaultErrorAfterTokens,
        FaultSlowStart, FaultUnhealthy,
    ];
}
