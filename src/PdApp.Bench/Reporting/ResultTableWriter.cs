using System.Globalization;
using PdApp.Bench.Measurement;
using Spectre.Console;

namespace PdApp.Bench.Reporting;

/// <summary>Prints the end-of-run tables: per target latencies and throughput, comparisons, and a sweep summary.</summary>
internal sealed class ResultTableWriter
{
    private readonly IAnsiConsole _console;

    /// <summary>Creates a writer on <paramref name="console"/>.</summary>
    public ResultTableWriter(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        _console = console;
    }

    /// <summary>Writes the tables of one level.</summary>
    public void Write(LevelResult level)
    {
        ArgumentNullException.ThrowIfNull(level);
        foreach (var run in level.Runs)
        {
            WriteRun(run, level.Aborted);
        }

        if (level.Comparison is { } comparison)
        {
            WriteComparison(comparison);
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

        var table = new Table().Title("Sweep").Border(TableBorder.Rounded);
        foreach (var header in new[] { "concurrency", "target", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "ITL p99", "failed" })
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (var level in levels)
        {
            foreach (var run in level.Runs)
            {
                table.AddRow(
                    Concurrency(run.MaxConcurrency),
                    Markup.Escape(run.Target),
                    Number(run.RequestThroughput),
                    Number(run.OutputThroughput),
                    Number(run.Ttft.P50),
                    Number(run.Ttft.P99),
                    Number(run.Tpot.P50),
                    Number(run.Itl.P99),
                    run.Failed.ToString(CultureInfo.InvariantCulture));
            }
        }

        _console.Write(table);
    }

    private void WriteRun(RunResult run, bool aborted)
    {
        var title = $"{run.Target}  concurrency {Concurrency(run.MaxConcurrency)}  rate {Rate(run.RequestRate)}{(aborted ? "  (aborted)" : string.Empty)}";
        // A line rather than a table title: titles wrap at the table's width on 80-column logs.
        _console.WriteLine();
        _console.MarkupLine($"[bold]{Markup.Escape(title)}[/]");
        var summary = new Table().Border(TableBorder.Rounded).HideHeaders();
        summary.AddColumn("metric");
        summary.AddColumn(new TableColumn("value").RightAligned());
        summary.AddRow("Successful requests", run.Completed.ToString(CultureInfo.InvariantCulture));
        summary.AddRow("Failed requests", run.Failed == 0 ? "0" : $"[red]{run.Failed}[/]");
        summary.AddRow("Duration (s)", Number(run.Duration.TotalSeconds));
        summary.AddRow("Input tokens", run.InputTokens.ToString(CultureInfo.InvariantCulture));
        summary.AddRow("Output tokens", run.OutputTokens.ToString(CultureInfo.InvariantCulture));
        summary.AddRow("Request throughput (req/s)", Number(run.RequestThroughput));
        summary.AddRow("Output token throughput (tok/s)", Number(run.OutputThroughput));
        summary.AddRow("Total token throughput (tok/s)", Number(run.TotalTokenThroughput));
        if (run.Goodput is { } goodput)
        {
            summary.AddRow("Goodput (req/s)", $"{Number(goodput)} ({run.GoodRequests} met SLOs)");
        }

        foreach (var (kind, count) in run.Errors)
        {
            summary.AddRow($"  errors: {Markup.Escape(kind)}", count.ToString(CultureInfo.InvariantCulture));
        }

        _console.Write(summary);

        var latencies = new Table().Border(TableBorder.Rounded);
        foreach (var header in new[] { "ms", "mean", "p50", "p90", "p99", "max", "samples" })
        {
            latencies.AddColumn(new TableColumn(header).RightAligned());
        }

        AddLatencyRow(latencies, "TTFT", run.Ttft);
        AddLatencyRow(latencies, "TPOT", run.Tpot);
        AddLatencyRow(latencies, "ITL", run.Itl);
        AddLatencyRow(latencies, "E2E", run.E2e);
        _console.Write(latencies);

        foreach (var sample in run.SampleErrors)
        {
            _console.MarkupLine($"[red]error[/] {Markup.Escape(sample)}");
        }
    }

    private void WriteComparison(Comparison comparison)
    {
        _console.WriteLine();
        _console.MarkupLine($"[bold]{Markup.Escape($"{comparison.Candidate} vs {comparison.Baseline} (baseline), concurrency {Concurrency(comparison.MaxConcurrency)}")}[/]");
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in new[] { "metric", "baseline", "candidate", "delta", "ratio" })
        {
            table.AddColumn(new TableColumn(header).RightAligned());
        }

        foreach (var row in comparison.Rows)
        {
            table.AddRow(
                $"{row.Metric} ({row.Unit})",
                Number(row.Baseline),
                Number(row.Candidate),
                (row.Delta >= 0 ? "+" : string.Empty) + Number(row.Delta),
                row.Ratio is { } ratio ? ratio.ToString("0.000", CultureInfo.InvariantCulture) : "-");
        }

        _console.Write(table);
    }

    private static void AddLatencyRow(Table table, string name, LatencySummary summary)
    {
        if (summary.Count == 0)
        {
            table.AddRow(name, "-", "-", "-", "-", "-", "0");
            return;
        }

        table.AddRow(
            name,
            Number(summary.Mean),
            Number(summary.P50),
            Number(summary.P90),
            Number(summary.P99),
            Number(summary.Max),
            summary.Count.ToString(CultureInfo.InvariantCulture));
    }

    internal static string Concurrency(int? level) => level?.ToString(CultureInfo.InvariantCulture) ?? "unlimited";

    internal static string Rate(double rate) => double.IsPositiveInfinity(rate) ? "inf" : Number(rate) + "/s";

    private static string Number(double value) => value.ToString(Math.Abs(value) >= 100 ? "0.0" : "0.000", CultureInfo.InvariantCulture);
}
