using System.Globalization;
using PdApp.Bench.Cli;
using PdApp.Bench.Measurement;

namespace PdApp.Bench.Reporting;

/// <summary>
/// Prints the end-of-run results: per run vLLM's summary block and a latency table of every
/// metric, the comparison of two targets, and a sweep summary. Targets appear under their short
/// labels; the full URLs are in the JSON.
/// </summary>
internal sealed class ResultTableWriter
{
    /// <summary>What an interleaved comparison leaves out, and why.</summary>
    public const string InterleavedNote =
        "interleaved: both targets share one arrival stream and one wall clock, so duration and throughput are the same " +
        "for both by construction and are not compared; --compare-mode sequential compares throughput.";

    private readonly ReportConsole _output;
    private readonly ReportSettings _report;

    /// <summary>Creates a writer on <paramref name="output"/>.</summary>
    public ResultTableWriter(ReportConsole output, ReportSettings? report = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _report = report ?? ReportSettings.Default;
    }

    /// <summary>Writes the results of one level.</summary>
    public void Write(LevelResult level)
    {
        ArgumentNullException.ThrowIfNull(level);
        foreach (var run in level.Runs)
        {
            WriteRun(run, level.Aborted);
        }

        if (level.Comparison is { } comparison)
        {
            WriteComparison(comparison, level);
        }
    }

    /// <summary>Writes one row per level and target when several levels ran.</summary>
    public void WriteSweep(IReadOnlyList<LevelResult> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        if (levels.Count < 2)
        {
            return;
        }

        var rows = levels.SelectMany(level => level.Runs.Select(run => (IReadOnlyList<string>)
        [
            run.DisplayName,
            Concurrency(run.MaxConcurrency),
            Number(run.RequestThroughput),
            Number(run.OutputThroughput),
            Number(run.Ttft.Median),
            Number(run.Ttft.P99),
            Number(run.Tpot.Median),
            Number(run.Itl.P99),
            run.Failed.ToString(CultureInfo.InvariantCulture),
        ])).ToArray();
        _output.Line();
        _output.Heading($"Sweep, rate {Rate(levels[0].Runs[0].RequestRate)}");
        _output.Table(new TextTable(["target", "concurrency", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "ITL p99", "failed"], rows));
    }

    private void WriteRun(RunResult run, bool aborted)
    {
        _output.Line();
        _output.Heading($"{run.DisplayName}  concurrency {Concurrency(run.MaxConcurrency)}  rate {Rate(run.RequestRate)}{(aborted ? "  (aborted)" : string.Empty)}");
        foreach (var line in ServingResultBlock.Lines(run, _report, run.GoodRequests is not null))
        {
            _output.Line(line);
        }

        foreach (var (kind, count) in run.Errors)
        {
            _output.Line($"errors {kind}: {count.ToString(CultureInfo.InvariantCulture)}");
        }

        var extra = _report.MetricPercentiles.Where(p => p is not (50 or 90 or 99)).ToArray();
        string[] headers = ["ms", "mean", "median", "std", "p90", "p99", .. extra.Select(p => "p" + VllmResultFile.PercentileWord(p)), "max", "samples"];
        var rows = LatencyMetrics.All.Select(metric =>
        {
            var summary = run.Of(metric);
            return summary.Count == 0
                ? (IReadOnlyList<string>)[metric.ShortName(), .. Enumerable.Repeat("-", headers.Length - 2), "0"]
                : [
                    metric.ShortName(), Number(summary.Mean), Number(summary.Median), Number(summary.Std), Number(summary.P90), Number(summary.P99),
                    .. extra.Select(p => Number(summary.At(p) ?? 0)), Number(summary.Max), summary.Count.ToString(CultureInfo.InvariantCulture),
                ];
        }).ToArray();
        _output.Table(new TextTable(headers, rows));

        foreach (var sample in run.SampleErrors)
        {
            _output.Error(sample);
        }
    }

    private void WriteComparison(Comparison comparison, LevelResult level)
    {
        _output.Line();
        // The comparison is always of the second run with the first; their labels are distinct even when their URLs are not.
        _output.Heading($"{level.Runs[1].DisplayName} vs {level.Runs[0].DisplayName} (baseline), concurrency {Concurrency(comparison.MaxConcurrency)}");
        var rows = comparison.Rows.Select(row => (IReadOnlyList<string>)
        [
            $"{row.Metric} ({row.Unit})",
            Number(row.Baseline),
            Number(row.Candidate),
            (row.Delta >= 0 ? "+" : string.Empty) + Number(row.Delta),
            row.Ratio is { } ratio ? ratio.ToString("0.000", CultureInfo.InvariantCulture) : "-",
        ]).ToArray();
        _output.Table(new TextTable(["metric", "baseline", "candidate", "delta", "ratio"], rows));
        if (!level.ThroughputComparable)
        {
            _output.Line(InterleavedNote);
        }
    }

    internal static string Concurrency(int? level) => level?.ToString(CultureInfo.InvariantCulture) ?? "unlimited";

    internal static string Rate(double rate) => double.IsPositiveInfinity(rate) ? "inf" : rate.ToString("0.###", CultureInfo.InvariantCulture) + "/s";

    private static string Number(double value) => value.ToString(Math.Abs(value) >= 100 ? "0.0" : "0.000", CultureInfo.InvariantCulture);
}
