using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Routing.Load;

/// <summary>
/// Reads an engine's load from its <c>/metrics</c> samples, with the gauge names vLLM's
/// <c>vllm/v1/metrics/loggers.py</c> (<c>PrometheusStatLogger</c>) registers:
/// <c>vllm:num_requests_running</c>, <c>vllm:num_requests_waiting</c> and
/// <c>vllm:kv_cache_usage_perc</c> (before v0.10: <c>vllm:gpu_cache_usage_perc</c>, used when the
/// new name is absent). vLLM labels each gauge by <c>model_name</c> and, with data parallelism,
/// <c>engine</c>; running and waiting are summed over label sets (the server's total), the KV usage
/// is the largest of them: the fullest engine is the one that preempts first.
/// </summary>
public static class VllmLoadReader
{
    /// <summary><c>vllm:num_requests_running</c>.</summary>
    public const string RunningMetric = "vllm:num_requests_running";

    /// <summary><c>vllm:num_requests_waiting</c>.</summary>
    public const string WaitingMetric = "vllm:num_requests_waiting";

    /// <summary><c>vllm:kv_cache_usage_perc</c> (vLLM &gt;= 0.10).</summary>
    public const string KvCacheUsageMetric = "vllm:kv_cache_usage_perc";

    /// <summary><c>vllm:gpu_cache_usage_perc</c> (older vLLM; the fallback).</summary>
    public const string LegacyKvCacheUsageMetric = "vllm:gpu_cache_usage_perc";

    /// <summary>Reads the load from <paramref name="samples"/>.</summary>
    /// <param name="samples">The parsed exposition.</param>
    /// <param name="observedAt">When it was scraped.</param>
    /// <param name="load">The load, when the page has vLLM's gauges.</param>
    /// <returns>False when neither running nor waiting is on the page (not a vLLM server, or metrics disabled).</returns>
    public static bool TryRead(IEnumerable<PrometheusSample> samples, DateTimeOffset observedAt, out InstanceLoad? load)
    {
        ArgumentNullException.ThrowIfNull(samples);
        double running = 0, waiting = 0;
        double? kv = null, legacyKv = null;
        var found = false;
        foreach (var sample in samples)
        {
            if (double.IsNaN(sample.Value))
            {
                continue;
            }

            switch (sample.Name)
            {
                case RunningMetric:
                    running += sample.Value;
                    found = true;
                    break;
                case WaitingMetric:
                    waiting += sample.Value;
                    found = true;
                    break;
                case KvCacheUsageMetric:
                    kv = Math.Max(kv ?? 0, sample.Value);
                    break;
                case LegacyKvCacheUsageMetric:
                    legacyKv = Math.Max(legacyKv ?? 0, sample.Value);
                    break;
            }
        }

        if (!found)
        {
            load = null;
            return false;
        }

        load = new InstanceLoad(
            ToCount(running),
            ToCount(waiting),
            Math.Clamp(kv ?? legacyKv ?? 0, 0, 1),
            observedAt);
        return true;
    }

    private static int ToCount(double value) =>
        double.IsFinite(value) ? (int)Math.Clamp(Math.Round(value), 0, int.MaxValue) : 0;
}
