namespace PdApp.Bench.Measurement;

/// <summary>The latency metrics, named as vLLM's <c>--percentile-metrics</c> and <c>--goodput</c> name them.</summary>
internal enum LatencyMetric
{
    /// <summary>Time to first token (<c>ttft</c>).</summary>
    Ttft,

    /// <summary>Time per output token after the first (<c>tpot</c>).</summary>
    Tpot,

    /// <summary>Inter-token latency (<c>itl</c>).</summary>
    Itl,

    /// <summary>End-to-end latency (<c>e2el</c>).</summary>
    E2el,
}

/// <summary>Names and selectors of <see cref="LatencyMetric"/>.</summary>
internal static class LatencyMetrics
{
    /// <summary>Every metric, in vLLM's report order.</summary>
    public static IReadOnlyList<LatencyMetric> All { get; } = [LatencyMetric.Ttft, LatencyMetric.Tpot, LatencyMetric.Itl, LatencyMetric.E2el];

    /// <summary>vLLM's default <c>--percentile-metrics</c> for generation: <c>ttft,tpot,itl</c>.</summary>
    public static IReadOnlyList<LatencyMetric> VllmDefault { get; } = [LatencyMetric.Ttft, LatencyMetric.Tpot, LatencyMetric.Itl];

    /// <summary>The key vLLM uses, e.g. <c>ttft</c> in <c>mean_ttft_ms</c>.</summary>
    public static string Key(this LatencyMetric metric) => metric switch
    {
        LatencyMetric.Ttft => "ttft",
        LatencyMetric.Tpot => "tpot",
        LatencyMetric.Itl => "itl",
        _ => "e2el",
    };

    /// <summary>The short upper-case name vLLM prints, e.g. <c>TTFT</c>.</summary>
    public static string ShortName(this LatencyMetric metric) => metric.Key().ToUpperInvariant();

    /// <summary>The section header vLLM prints, e.g. <c>Time to First Token</c>.</summary>
    public static string Title(this LatencyMetric metric) => metric switch
    {
        LatencyMetric.Ttft => "Time to First Token",
        LatencyMetric.Tpot => "Time per Output Token (excl. 1st token)",
        LatencyMetric.Itl => "Inter-token Latency",
        _ => "End-to-end Latency",
    };

    /// <summary>Parses a vLLM metric key (case-insensitive).</summary>
    public static bool TryParse(string key, out LatencyMetric metric)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var candidate in All)
        {
            if (candidate.Key().Equals(key.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                metric = candidate;
                return true;
            }
        }

        metric = default;
        return false;
    }

    /// <summary>The summary of <paramref name="metric"/> in <paramref name="run"/>.</summary>
    public static LatencySummary Of(this RunResult run, LatencyMetric metric)
    {
        ArgumentNullException.ThrowIfNull(run);
        return metric switch
        {
            LatencyMetric.Ttft => run.Ttft,
            LatencyMetric.Tpot => run.Tpot,
            LatencyMetric.Itl => run.Itl,
            _ => run.E2e,
        };
    }
}
