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

    private static LevelResult Level(int concurrency)
    {
        RunResult Run(string target, double ttftMs)
        {
            var recorder = new MetricsRecorder(target, new SloSettings(TtftMilliseconds: 100, TpotMilliseconds: null));
            recorder.Record(new RequestOutcome(null, null, (long)(ttftMs * 1000), 200_000, 10, 11, Streamed: true));
            recorder.Record(new RequestOutcome(null, null, (long)(ttftMs * 2000), 300_000, 10, 11, Streamed: true));
            recorder.Record(RequestOutcome.Failed("http_503", "busy", 1000, 10));
            recorder.OnInterTokenLatency(15_000);
            return recorder.ToResult(concurrency, double.PositiveInfinity, TimeSpan.FromSeconds(1));
        }

        return new LevelResult(concurrency, [Run("http://direct", 10), Run("http://proxy", 11)], WarmupFailures: 0, Aborted: false);
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
