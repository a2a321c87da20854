using System.Text.Json;
using PdApp.Bench.Cli;
using PdApp.Bench.Measurement;
using PdApp.Bench.Reporting;

namespace PdApp.Tests.Bench;

public sealed class ReportTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("pdapp-bench-report-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task JsonReport_HasTheDocumentedSnakeCaseShape()
    {
        var settings = SettingsFor("--base-url http://direct --compare http://proxy --max-concurrency 1 8 --num-prompts 2 --slo-ttft-ms 100");
        var levels = new[] { Level(1), Level(8) };
        var file = new FileInfo(Path.Combine(_folder.FullName, "out", "results.json"));

        await JsonReportWriter.WriteAsync(BenchReport.Create(settings, ["http://direct", "http://proxy"], levels, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(5)), file, CancellationToken.None);

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(file.FullName));
        var root = document.RootElement;
        Assert.Equal(1, root.GetProperty("schema_version").GetInt32());
        var config = root.GetProperty("config");
        Assert.Equal(JsonValueKind.Null, config.GetProperty("request_rate").ValueKind);
        Assert.Equal(1.0, config.GetProperty("burstiness").GetDouble());
        Assert.Equal(2, config.GetProperty("targets").GetArrayLength());
        Assert.Equal(100, config.GetProperty("slo_ttft_ms").GetDouble());
        var runs = root.GetProperty("runs");
        Assert.Equal(4, runs.GetArrayLength());
        var run = runs[0];
        Assert.Equal("http://direct", run.GetProperty("target").GetString());
        Assert.Equal(1, run.GetProperty("max_concurrency").GetInt32());
        Assert.Equal(2, run.GetProperty("completed").GetInt64());
        Assert.Equal(1, run.GetProperty("errors").GetProperty("http_503").GetInt64());
        Assert.Equal(2, run.GetProperty("good_requests").GetInt64());
        foreach (var metric in new[] { "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms" })
        {
            var summary = run.GetProperty(metric);
            foreach (var field in new[] { "count", "mean", "p50", "p90", "p99", "max" })
            {
                Assert.Equal(JsonValueKind.Number, summary.GetProperty(field).ValueKind);
            }
        }

        Assert.True(run.GetProperty("request_throughput").GetDouble() > 0);
        var comparisons = root.GetProperty("comparisons");
        Assert.Equal(2, comparisons.GetArrayLength());
        var ttft = comparisons[0].GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == "ttft_p99");
        Assert.Equal("ms", ttft.GetProperty("unit").GetString());
        Assert.Equal(JsonValueKind.Number, ttft.GetProperty("ratio").ValueKind);
    }

    [Theory]
    [InlineData("chart.svg", 1)]
    [InlineData("chart.png", 1)]
    [InlineData("sweep.svg", 3)]
    [InlineData("sweep.png", 3)]
    public void Plot_RendersHeadlessToSvgOrPng(string name, int levelCount)
    {
        var file = new FileInfo(Path.Combine(_folder.FullName, name));

        PlotWriter.Write([.. Enumerable.Range(0, levelCount).Select(i => Level(1 << (3 * i)))], file);

        var bytes = File.ReadAllBytes(file.FullName);
        Assert.True(bytes.Length > 1000);
        if (name.EndsWith(".png", StringComparison.Ordinal))
        {
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        else
        {
            Assert.Contains("<svg", System.Text.Encoding.UTF8.GetString(bytes));
        }
    }

    [Fact]
    public void RedirectedOutput_TablesAreMarkdownAndNeverWrapped()
    {
        var text = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(text),
            Ansi = Spectre.Console.AnsiSupport.No,
            Interactive = Spectre.Console.InteractionSupport.No,
        });
        console.Profile.Width = 80;
        var longLabel = "a-label-long-enough-to-wrap-an-eighty-column-console-" + new string('x', 40);
        var level = Level(64, longLabel);

        new ResultTableWriter(new ReportConsole(console, TableFormat.Markdown)).Write(level);

        var lines = text.ToString().Split('\n').Select(line => line.TrimEnd('\r')).ToArray();
        Assert.Contains(lines, line => line.StartsWith(longLabel + "  concurrency 64  rate inf", StringComparison.Ordinal));
        var table = lines.SkipWhile(line => !line.StartsWith("| ms ", StringComparison.Ordinal)).TakeWhile(line => line.StartsWith('|')).ToArray();
        Assert.Equal(2 + 4, table.Length);
        Assert.Single(table.Select(line => line.Length).Distinct());
        Assert.Matches(@"^\| -+ \| -+: \|", table[1]);
        Assert.Contains(lines, line => line.StartsWith("| ttft_p50 (ms) ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("Successful requests:".PadRight(40) + " 2", StringComparison.Ordinal));
        Assert.Contains(lines, line => line == ResultTableWriter.InterleavedNote);
        Assert.Contains(lines, line => line.StartsWith($"proxy vs {longLabel} (baseline), concurrency 64", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains('─') || line.Contains('╭'));
    }

    [Fact]
    public void MarkdownTable_PadsEveryColumnAndEscapesPipes()
    {
        var lines = new TextTable(["target", "req/s"], [["a|b", "1.5"], ["long-label", "100.25"]]).ToMarkdown().ToArray();

        Assert.Equal(
            [
                "| target     |  req/s |",
                "| ---------- | -----: |",
                "| a\\|b       |    1.5 |",
                "| long-label | 100.25 |",
            ],
            lines);
    }

    [Fact]
    public async Task Plot_LabelsPanelsWithShortLabelsAndTheRequestRate()
    {
        var single = new FileInfo(Path.Combine(_folder.FullName, "single.svg"));
        var sweep = new FileInfo(Path.Combine(_folder.FullName, "sweep.svg"));

        PlotWriter.Write([Level(8)], single);
        PlotWriter.Write([Level(1), Level(8), Level(64)], sweep);

        var singleSvg = await File.ReadAllTextAsync(single.FullName);
        var sweepSvg = await File.ReadAllTextAsync(sweep.FullName);
        foreach (var title in new[] { "TTFT (ms), concurrency 8, request rate inf", "TPOT (ms)", "ITL (ms)", "E2E (ms)" })
        {
            Assert.Contains(title, singleSvg);
        }

        Assert.Contains("direct", singleSvg);
        Assert.Contains("proxy", singleSvg);
        Assert.DoesNotContain("http://direct", singleSvg);
        Assert.Contains("Output tok/s (interleaved: shared by construction), request rate inf", sweepSvg);
        Assert.Contains("Requests/s (interleaved: shared by construction), request rate inf", sweepSvg);
        Assert.Contains("direct p99", sweepSvg);
        Assert.Contains("max concurrency (log2 scale)", sweepSvg);
        Assert.DoesNotContain("http://proxy", sweepSvg);
    }

    private static LevelResult Level(int concurrency, string baselineLabel = "direct")
    {
        RunResult Run(string target, string label, double ttftMs)
        {
            var recorder = new MetricsRecorder(target, new SloSettings(TtftMilliseconds: 100, TpotMilliseconds: null), label);
            recorder.Record(new RequestOutcome(null, null, (long)(ttftMs * 1000), 200_000, 10, 11, Streamed: true));
            recorder.Record(new RequestOutcome(null, null, (long)(ttftMs * 2000), 300_000, 10, 11, Streamed: true));
            recorder.Record(RequestOutcome.Failed("http_503", "busy", 1000, 10));
            recorder.OnInterTokenLatency(15_000);
            return recorder.ToResult(concurrency, double.PositiveInfinity, TimeSpan.FromSeconds(1));
        }

        return new LevelResult(concurrency, [Run("http://direct", baselineLabel, 10), Run("http://proxy", "proxy", 11)], WarmupFailures: 0, Aborted: false);
    }

    private static BenchSettings SettingsFor(string commandLine)
    {
        BenchSettings? bound = null;
        BenchCommand.Create((settings, _) =>
        {
            bound = settings;
            return Task.FromResult(0);
        }).Parse(commandLine.Split(' ')).Invoke();
        return bound!;
    }
}
