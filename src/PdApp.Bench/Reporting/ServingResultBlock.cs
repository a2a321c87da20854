using System.Globalization;
using PdApp.Bench.Cli;
using PdApp.Bench.Measurement;

namespace PdApp.Bench.Reporting;

/// <summary>
/// A run's summary laid out as <c>vllm bench serve</c> prints it (the "Serving Benchmark Result"
/// block: 50 columns, labels padded to 40, two decimals), so it reads the same as vLLM's output and
/// never wraps. Statistics follow <c>--percentile-metrics</c> and <c>--metric-percentiles</c>.
/// </summary>
internal static class ServingResultBlock
{
    private const int Width = 50;

    /// <summary>The block's lines for <paramref name="run"/>.</summary>
    public static IEnumerable<string> Lines(RunResult run, ReportSettings report, bool goodput)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(report);
        yield return Center(" Serving Benchmark Result ", '=');
        yield return Row("Successful requests:", run.Completed.ToString(CultureInfo.InvariantCulture));
        yield return Row("Failed requests:", run.Failed.ToString(CultureInfo.InvariantCulture));
        if (run.MaxConcurrency is { } concurrency)
        {
            yield return Row("Maximum request concurrency:", concurrency.ToString(CultureInfo.InvariantCulture));
        }

        if (!double.IsPositiveInfinity(run.RequestRate))
        {
            yield return Row("Request rate configured (RPS):", Fixed(run.RequestRate));
        }

        yield return Row("Benchmark duration (s):", Fixed(run.Duration.TotalSeconds));
        yield return Row("Total input tokens:", run.InputTokens.ToString(CultureInfo.InvariantCulture));
        yield return Row("Total generated tokens:", run.OutputTokens.ToString(CultureInfo.InvariantCulture));
        yield return Row("Request throughput (req/s):", Fixed(run.RequestThroughput));
        if (goodput)
        {
            yield return Row("Request goodput (req/s):", Fixed(run.Goodput ?? 0));
        }

        yield return Row("Output token throughput (tok/s):", Fixed(run.OutputThroughput));
        yield return Row("Total Token throughput (tok/s):", Fixed(run.TotalTokenThroughput));
        foreach (var metric in report.PercentileMetrics)
        {
            var summary = run.Of(metric);
            yield return Center(metric.Title(), '-');
            yield return Row($"Mean {metric.ShortName()} (ms):", Fixed(summary.Mean));
            yield return Row($"Median {metric.ShortName()} (ms):", Fixed(summary.Median));
            foreach (var percentile in report.MetricPercentiles)
            {
                yield return Row($"P{VllmResultFile.PercentileWord(percentile)} {metric.ShortName()} (ms):", Fixed(summary.At(percentile) ?? 0));
            }
        }

        yield return new string('=', Width);
    }

    private static string Row(string label, string value) => label.PadRight(40) + " " + value;

    private static string Fixed(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Center(string text, char fill)
    {
        var left = Math.Max(0, (Width - text.Length) / 2);
        return (new string(fill, left) + text).PadRight(Width, fill);
    }
}
