using PdApp.Bench.Measurement;

namespace PdApp.Bench.Reporting;

/// <summary>One metric of two targets side by side.</summary>
/// <param name="Metric">What is compared, e.g. <c>ttft_p99</c>.</param>
/// <param name="Unit"><c>ms</c>, <c>req/s</c> or <c>tok/s</c>.</param>
/// <param name="Baseline">The first target's value.</param>
/// <param name="Candidate">The second target's value.</param>
internal sealed record ComparisonRow(string Metric, string Unit, double Baseline, double Candidate)
{
    /// <summary>Candidate minus baseline (for latencies: what the candidate adds).</summary>
    public double Delta => Candidate - Baseline;

    /// <summary>Candidate over baseline, or null when the baseline is zero.</summary>
    public double? Ratio => Baseline == 0 ? null : Candidate / Baseline;
}

/// <summary>Two targets' results for the same workload and concurrency.</summary>
/// <param name="MaxConcurrency">The level, or null for unlimited.</param>
/// <param name="Baseline">The first target.</param>
/// <param name="Candidate">The second target.</param>
/// <param name="Rows">The compared metrics.</param>
internal sealed record Comparison(int? MaxConcurrency, string Baseline, string Candidate, IReadOnlyList<ComparisonRow> Rows)
{
    /// <summary>Compares <paramref name="candidate"/> with <paramref name="baseline"/>.</summary>
    /// <param name="baseline">The first target's result.</param>
    /// <param name="candidate">The second target's result.</param>
    /// <param name="includeThroughput">
    /// Compare throughput too; only meaningful when the targets ran separately (interleaved targets
    /// share one wall clock and complete the same prompts, so their throughputs are equal by construction).
    /// </param>
    public static Comparison Create(RunResult baseline, RunResult candidate, bool includeThroughput)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        var rows = new List<ComparisonRow>();
        AddLatency(rows, "ttft", baseline.Ttft, candidate.Ttft);
        AddLatency(rows, "tpot", baseline.Tpot, candidate.Tpot);
        AddLatency(rows, "itl", baseline.Itl, candidate.Itl);
        AddLatency(rows, "e2e", baseline.E2e, candidate.E2e);
        if (includeThroughput)
        {
            rows.Add(new ComparisonRow("request_throughput", "req/s", baseline.RequestThroughput, candidate.RequestThroughput));
            rows.Add(new ComparisonRow("output_throughput", "tok/s", baseline.OutputThroughput, candidate.OutputThroughput));
        }
        return new Comparison(baseline.MaxConcurrency, baseline.Target, candidate.Target, rows);
    }

    private static void AddLatency(List<ComparisonRow> rows, string name, LatencySummary baseline, LatencySummary candidate)
    {
        if (baseline.Count == 0 && candidate.Count == 0)
        {
            return;
        }

        rows.Add(new ComparisonRow($"{name}_mean", "ms", baseline.Mean, candidate.Mean));
        rows.Add(new ComparisonRow($"{name}_p50", "ms", baseline.P50, candidate.P50));
        rows.Add(new ComparisonRow($"{name}_p99", "ms", baseline.P99, candidate.P99));
    }
}
