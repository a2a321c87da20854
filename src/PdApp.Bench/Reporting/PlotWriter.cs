using PdApp.Bench.Measurement;
using ScottPlot;
using SkiaSharp;

namespace PdApp.Bench.Reporting;

/// <summary>
/// Draws the results with ScottPlot (rendered by SkiaSharp, headless), one panel per metric family.
/// For one concurrency level: p50/p90/p99 bars of TTFT, TPOT, ITL and E2E, one colour per target.
/// For a sweep: request and output throughput and the p50 (solid) and p99 (dashed) of each
/// latency against concurrency on a log2 axis, one colour per target. Legends use the targets'
/// short labels; titles give the request rate; with interleaved targets the throughput panels say
/// that throughput is shared by construction. The file extension picks SVG or PNG.
/// </summary>
internal static class PlotWriter
{
    private const int Width = 1200;
    private const int PanelHeight = 360;

    private static readonly (string Name, LatencyMetric Metric)[] LatencyPanels =
    [
        ("TTFT", LatencyMetric.Ttft), ("TPOT", LatencyMetric.Tpot), ("ITL", LatencyMetric.Itl), ("E2E", LatencyMetric.E2el),
    ];

    /// <summary>Writes the chart of <paramref name="levels"/> to <paramref name="file"/>.</summary>
    public static void Write(IReadOnlyList<LevelResult> levels, FileInfo file)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(file);
        var figure = new Multiplot();
        while (figure.Subplots.Count > 0)
        {
            figure.Subplots.RemoveAt(0);
        }

        if (levels.Count > 1)
        {
            DrawSweep(figure, levels);
        }
        else if (levels.Count == 1)
        {
            DrawPercentiles(figure, levels[0]);
        }
        else
        {
            figure.Subplots.Add(new Plot());
        }

        var rows = (figure.Subplots.Count + 1) / 2;
        figure.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, figure.Subplots.Count == 1 ? 1 : 2);
        var height = PanelHeight * rows;
        file.Directory?.Create();
        if (file.Extension.Equals(".png", StringComparison.OrdinalIgnoreCase))
        {
            figure.SavePng(file.FullName, Width, height);
            return;
        }

        using var stream = file.Create();
        using (var canvas = SKSvgCanvas.Create(new SKRect(0, 0, Width, height), stream))
        {
            figure.Render(canvas, new PixelRect(0, Width, height, 0));
        }
    }

    /// <summary>The title suffix of a chart: concurrency (for one level) and request rate.</summary>
    internal static string Context(int? concurrency, double rate, bool sweep) =>
        (sweep ? string.Empty : $"concurrency {ResultTableWriter.Concurrency(concurrency)}, ") + $"request rate {ResultTableWriter.Rate(rate)}";

    private static void DrawPercentiles(Multiplot figure, LevelResult level)
    {
        (string Name, Func<LatencySummary, double> Pick)[] percentiles =
        [
            ("p50", summary => summary.Median), ("p90", summary => summary.P90), ("p99", summary => summary.P99),
        ];
        var context = Context(level.MaxConcurrency, level.Runs[0].RequestRate, sweep: false);
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var (name, metric) in LatencyPanels)
        {
            var plot = new Plot();
            figure.Subplots.Add(plot);
            var bars = new List<Bar>();
            var groupWidth = level.Runs.Count + 1;
            for (var p = 0; p < percentiles.Length; p++)
            {
                for (var t = 0; t < level.Runs.Count; t++)
                {
                    bars.Add(new Bar
                    {
                        Position = (p * groupWidth) + t,
                        Value = percentiles[p].Pick(level.Runs[t].Of(metric)),
                        FillColor = palette.GetColor(t),
                    });
                }
            }

            plot.Add.Bars(bars);
            for (var t = 0; t < level.Runs.Count; t++)
            {
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = level.Runs[t].DisplayName, FillColor = palette.GetColor(t) });
            }

            var center = (level.Runs.Count - 1) / 2.0;
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. percentiles.Select((_, p) => (p * groupWidth) + center)],
                [.. percentiles.Select(percentile => percentile.Name)]);
            plot.Axes.Margins(bottom: 0);
            plot.Title($"{name} (ms), {context}", size: 13);
            plot.YLabel("ms");
            plot.ShowLegend(Alignment.UpperLeft);
        }
    }

    private static void DrawSweep(Multiplot figure, IReadOnlyList<LevelResult> levels)
    {
        var context = Context(null, levels[0].Runs[0].RequestRate, sweep: true);
        var interleaved = levels[0].Runs.Count > 1 && !levels[0].ThroughputComparable;
        var shared = interleaved ? " (interleaved: shared by construction)" : string.Empty;
        var concurrency = levels.Select((level, i) => (double)(level.MaxConcurrency ?? (1 << i))).ToArray();
        var x = concurrency.Select(Math.Log2).ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        var targets = levels[0].Runs.Count;

        var panels = new List<(Plot Plot, string Title)>();
        Plot Panel(string title)
        {
            var plot = new Plot();
            panels.Add((plot, title));
            return plot;
        }

        var requests = Panel($"Requests/s{shared}, {context}");
        var output = Panel($"Output tok/s{shared}, {context}");
        for (var t = 0; t < targets; t++)
        {
            var index = t;
            var label = levels[0].Runs[index].DisplayName;
            AddLine(requests, x, levels.Select(level => level.Runs[index].RequestThroughput), label, palette.GetColor(t), LinePattern.Solid);
            AddLine(output, x, levels.Select(level => level.Runs[index].OutputThroughput), label, palette.GetColor(t), LinePattern.Solid);
        }

        foreach (var (name, metric) in LatencyPanels)
        {
            var plot = Panel($"{name} (ms), p50 solid, p99 dashed, {context}");
            for (var t = 0; t < targets; t++)
            {
                var index = t;
                var label = levels[0].Runs[index].DisplayName;
                AddLine(plot, x, levels.Select(level => level.Runs[index].Of(metric).Median), $"{label} p50", palette.GetColor(t), LinePattern.Solid);
                AddLine(plot, x, levels.Select(level => level.Runs[index].Of(metric).P99), $"{label} p99", palette.GetColor(t), LinePattern.Dashed);
            }
        }

        foreach (var (plot, title) in panels)
        {
            // Log2 axis: positions are log2(concurrency), ticks read as the concurrency itself.
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                x, [.. concurrency.Select(value => ResultTableWriter.Concurrency((int)value))]);
            plot.Title(title, size: 12);
            plot.XLabel("max concurrency (log2 scale)");
            plot.ShowLegend(Alignment.UpperLeft);
            figure.Subplots.Add(plot);
        }
    }

    private static void AddLine(Plot plot, double[] x, IEnumerable<double> y, string label, Color color, LinePattern pattern)
    {
        var line = plot.Add.Scatter(x, y.ToArray());
        line.LegendText = label;
        line.Color = color;
        line.LinePattern = pattern;
    }
}
