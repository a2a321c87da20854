using PdApp.Bench.Measurement;
using ScottPlot;

namespace PdApp.Bench.Reporting;

/// <summary>
/// Draws the results with ScottPlot (rendered by SkiaSharp, headless): for one concurrency
/// level, grouped bars of TTFT/TPOT/ITL/E2E p50/p90/p99 per target; for a sweep, output
/// throughput (left axis) and TTFT p99 (right axis) against concurrency, one line per target.
/// The file extension picks SVG or PNG.
/// </summary>
internal static class PlotWriter
{
    private const int Width = 1000;
    private const int Height = 600;

    /// <summary>Writes the chart of <paramref name="levels"/> to <paramref name="file"/>.</summary>
    public static void Write(IReadOnlyList<LevelResult> levels, FileInfo file)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(file);
        var plot = new Plot();
        if (levels.Count > 1)
        {
            DrawSweep(plot, levels);
        }
        else if (levels.Count == 1)
        {
            DrawPercentiles(plot, levels[0]);
        }

        file.Directory?.Create();
        if (file.Extension.Equals(".png", StringComparison.OrdinalIgnoreCase))
        {
            plot.SavePng(file.FullName, Width, Height);
        }
        else
        {
            plot.SaveSvg(file.FullName, Width, Height);
        }
    }

    private static void DrawPercentiles(Plot plot, LevelResult level)
    {
        (string Name, Func<RunResult, LatencySummary> Pick)[] metrics =
        [
            ("TTFT", run => run.Ttft), ("TPOT", run => run.Tpot), ("ITL", run => run.Itl), ("E2E", run => run.E2e),
        ];
        (string Name, Func<LatencySummary, double> Pick)[] percentiles =
        [
            ("p50", summary => summary.P50), ("p90", summary => summary.P90), ("p99", summary => summary.P99),
        ];
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        var groupWidth = level.Runs.Count * percentiles.Length + 1;
        for (var m = 0; m < metrics.Length; m++)
        {
            for (var t = 0; t < level.Runs.Count; t++)
            {
                var summary = metrics[m].Pick(level.Runs[t]);
                for (var p = 0; p < percentiles.Length; p++)
                {
                    bars.Add(new Bar
                    {
                        Position = m * groupWidth + t * percentiles.Length + p,
                        Value = percentiles[p].Pick(summary),
                        FillColor = palette.GetColor(t * percentiles.Length + p),
                    });
                }
            }
        }

        plot.Add.Bars(bars);
        for (var t = 0; t < level.Runs.Count; t++)
        {
            for (var p = 0; p < percentiles.Length; p++)
            {
                plot.Legend.ManualItems.Add(new LegendItem
                {
                    LabelText = $"{level.Runs[t].Target} {percentiles[p].Name}",
                    FillColor = palette.GetColor(t * percentiles.Length + p),
                });
            }
        }

        var center = (level.Runs.Count * percentiles.Length - 1) / 2.0;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            metrics.Select((_, m) => m * groupWidth + center).ToArray(),
            metrics.Select(metric => metric.Name).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title($"Latency percentiles, concurrency {ResultTableWriter.Concurrency(level.MaxConcurrency)}");
        plot.YLabel("milliseconds");
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private static void DrawSweep(Plot plot, IReadOnlyList<LevelResult> levels)
    {
        var targets = levels[0].Runs.Count;
        var concurrency = levels.Select((level, i) => (double)(level.MaxConcurrency ?? i + 1)).ToArray();
        for (var t = 0; t < targets; t++)
        {
            var index = t;
            var name = levels[0].Runs[index].Target;
            var throughput = plot.Add.Scatter(concurrency, levels.Select(level => level.Runs[index].OutputThroughput).ToArray());
            throughput.LegendText = $"{name} output tok/s";
            var ttft = plot.Add.Scatter(concurrency, levels.Select(level => level.Runs[index].Ttft.P99).ToArray());
            ttft.LegendText = $"{name} TTFT p99 (ms)";
            ttft.LinePattern = LinePattern.Dashed;
            ttft.Axes.YAxis = plot.Axes.Right;
        }

        plot.Title("Throughput and TTFT p99 vs concurrency");
        plot.XLabel("max concurrency");
        plot.Axes.Left.Label.Text = "output tokens/s";
        plot.Axes.Right.Label.Text = "TTFT p99 (ms)";
        plot.ShowLegend(Alignment.UpperLeft);
    }
}
