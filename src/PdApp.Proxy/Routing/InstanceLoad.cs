namespace PdApp.Proxy.Routing;

/// <summary>
/// An engine's load as its Prometheus gauges report it (<c>vllm:num_requests_running</c>,
/// <c>vllm:num_requests_waiting</c>, <c>vllm:kv_cache_usage_perc</c>), for load-aware balancing.
/// </summary>
/// <param name="Running">Requests the engine is running.</param>
/// <param name="Waiting">Requests queued in the engine's scheduler.</param>
/// <param name="KvCacheUsage">KV cache usage, 0 to 1.</param>
/// <param name="ObservedAt">When the gauges were read; stale readings are ignored.</param>
public sealed record InstanceLoad(int Running, int Waiting, double KvCacheUsage, DateTimeOffset ObservedAt);
