using System.CommandLine;
using PdApp.Bench.Cli;
using PdApp.Bench.Load;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;
using PdApp.Protocol.Connectors;

namespace PdApp.Tests.Bench;

public sealed class CliParsingTests
{
    [Theory]
    [InlineData("--base-url http://127.0.0.1:8000 --request-rate fast", "--request-rate")]
    [InlineData("--base-url 127.0.0.1:8000", "--base-url")]
    [InlineData("--base-url http://a --num-prompts 0", "--num-prompts")]
    [InlineData("--base-url http://a --num-prompts many", "--num-prompts")]
    [InlineData("--base-url http://a --range-ratio 1.5", "--range-ratio")]
    [InlineData("--base-url http://a --max-concurrency 4 0", "--max-concurrency")]
    [InlineData("--base-url http://a --duration soon --max-concurrency 2", "--duration")]
    [InlineData("--base-url http://a --dataset jsonl", "--dataset-path")]
    [InlineData("--base-url http://a --dataset sharegpt --dataset-path /nonexistent/sharegpt.json", "--dataset-path")]
    [InlineData("--base-url http://a --dataset parquet", "parquet")]
    [InlineData("--base-url http://a --plot chart.gif", "--plot")]
    [InlineData("--base-url http://a --slo-ttft-ms -5", "--slo-ttft-ms")]
    [InlineData("--base-url http://a --num-prompts 5 --duration 10s --max-concurrency 1", "--duration")]
    [InlineData("--base-url http://a --duration 10s", "--max-concurrency")]
    [InlineData("--base-url http://a --stream --no-stream", "--no-stream")]
    [InlineData("--base-url http://a --pd-direct http://p http://d", "--pd-direct")]
    [InlineData("--pd-direct http://p", "--pd-direct")]
    [InlineData("--base-url http://a --connector NixlConnector", "--connector")]
    [InlineData("--pd-direct http://p http://d --connector nixlconnector", "nixlconnector")]
    [InlineData("--pd-direct http://p http://d --connector P2pNcclConnector", "P2pNcclConnector")]
    [InlineData("--pd-direct http://p http://d --connector MultiConnector", "--connector")]
    [InlineData("--pd-direct http://p http://d --connector NixlConnector SharedStorageConnector", "MultiConnector")]
    [InlineData("--model m", "--base-url")]
    [InlineData("--base-url http://a --burstiness 0", "--burstiness")]
    [InlineData("--base-url http://a --compare-mode sequential", "--compare-mode")]
    [InlineData("--base-url http://a --compare http://b --compare-mode parallel", "parallel")]
    [InlineData("--base-url http://a --random-range-ratio 1.5", "--random-range-ratio")]
    [InlineData("--base-url http://a --dataset-name custom", "--dataset-path")]
    [InlineData("--base-url http://a --goodput ttfx:5", "--goodput")]
    [InlineData("--base-url http://a --goodput itl:5", "--goodput")]
    [InlineData("--base-url http://a --goodput ttft:-1", "--goodput")]
    [InlineData("--base-url http://a --goodput ttft:500 --slo-ttft-ms 100", "--slo-ttft-ms")]
    [InlineData("--base-url http://a --percentile-metrics ttft,latency", "--percentile-metrics")]
    [InlineData("--base-url http://a --metric-percentiles 50,101", "--metric-percentiles")]
    [InlineData("--base-url http://a --metadata novalue", "--metadata")]
    [InlineData("--base-url http://a --random-output-len 5 --output-len 6", "--random-output-len")]
    [InlineData("--base-url http://a --backend openai-chat --endpoint /v1/completions", "--backend")]
    [InlineData("--base-url http://a --compare-label b", "--compare-label")]
    [InlineData("--base-url http://a --ready-check-timeout-sec -1", "--ready-check-timeout-sec")]
    [InlineData("--base-url http://a --dataset-name prefix_repetition --prefix-repetition-num-prefixes 0", "--prefix-repetition-num-prefixes")]
    [InlineData("--base-url http://a --dataset-name prefix_repetition --prefix-repetition-output-len 5 --output-len 6", "--prefix-repetition-output-len")]
    [InlineData("--base-url http://a --dataset-name multi_turn --multi-turn-turns 0", "--multi-turn-turns")]
    [InlineData("--base-url http://a --dataset-name multi_turn --multi-turn-output-len 5 --output-len 6", "--multi-turn-output-len")]
    public void InvalidCommandLine_FailsWithAMessageNamingTheOption(string commandLine, string named)
    {
        var parse = Parse(commandLine);

        Assert.NotEmpty(parse.Errors);
        Assert.Contains(parse.Errors, error => error.Message.Contains(named, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidCommandLine_ExitsWithOneAndPrintsTheErrorWithoutRunning()
    {
        var ran = false;
        var command = BenchCommand.Create((_, _) =>
        {
            ran = true;
            return Task.FromResult(0);
        });
        var error = new StringWriter();

        var exit = await command.Parse(["--base-url", "http://a", "--request-rate", "fast"]).InvokeAsync(new InvocationConfiguration { Error = error, Output = new StringWriter() });

        Assert.Equal(1, exit);
        Assert.False(ran);
        Assert.Contains("--request-rate: 'fast' is not a positive number or 'inf'.", error.ToString());
    }

    [Fact]
    public void Defaults_AreVllmsBenchmarkDefaults()
    {
        var settings = Bind("--base-url http://127.0.0.1:8000");

        Assert.Equal(new Uri("http://127.0.0.1:8000"), settings.Primary.BaseUrl);
        Assert.Null(settings.Primary.PdDirect);
        Assert.Null(settings.Compare);
        Assert.Equal(CompareMode.Interleaved, settings.CompareMode);
        Assert.Equal(EndpointKind.Completions, settings.Shape.Endpoint);
        Assert.True(settings.Shape.Stream);
        Assert.Equal(string.Empty, settings.Shape.Model);
        Assert.Equal(DatasetKind.Random, settings.Dataset.Kind);
        Assert.Equal(1024, settings.Dataset.Random.InputTokens);
        Assert.Equal(128, settings.Dataset.Random.OutputTokens);
        Assert.Equal(1000, settings.Plan.NumPrompts);
        Assert.True(double.IsPositiveInfinity(settings.Plan.RequestRate));
        Assert.Equal([(int?)null], settings.ConcurrencyLevels);
        Assert.False(settings.Slo.IsSet);
    }

    [Fact]
    public void FullCommandLine_BindsEverySetting()
    {
        var settings = Bind(
            "--pd-direct http://127.0.0.1:8100 http://127.0.0.1:8200 --connector MultiConnector NixlConnector SharedStorageConnector " +
            "--compare http://127.0.0.1:8000 --compare-mode sequential --endpoint chat --model m " +
            "--no-stream --request-rate 12.5 --burstiness 0.5 --max-concurrency 1 64 256 --duration 30s --warmup 3 --seed 9 --api-key k " +
            "--input-len 256 --output-len 32 --range-ratio 0.25 --prefix-len 64 --prefix-groups 4 --prefix-skew 1.2 " +
            "--slo-ttft-ms 500 --slo-tpot-ms 50 --timeout 2m --output-json out.json --plot out.svg --ignore-eos");

        Assert.Equal((new Uri("http://127.0.0.1:8100"), new Uri("http://127.0.0.1:8200")), settings.Primary.PdDirect);
        Assert.Equal(KvConnectorKind.Multi, settings.Primary.Connector?.Connector.Kind);
        Assert.Equal([KvConnectorKind.Nixl, KvConnectorKind.SharedStorage], settings.Primary.Connector!.Effective.Select(c => c.Kind));
        Assert.Equal(new Uri("http://127.0.0.1:8000"), settings.Compare);
        Assert.Equal(CompareMode.Sequential, settings.CompareMode);
        Assert.Equal(new RequestShape(EndpointKind.Chat, "m", Stream: false, IgnoreEos: true, "k", TimeSpan.FromMinutes(2)), settings.Shape);
        Assert.Equal(12.5, settings.Plan.RequestRate);
        Assert.Equal(0.5, settings.Plan.Burstiness);
        Assert.Equal([1, 64, 256], settings.ConcurrencyLevels);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Plan.Duration);
        Assert.Null(settings.Plan.NumPrompts);
        Assert.Equal(3, settings.Plan.Warmup);
        Assert.Equal(new RandomDatasetOptions(256, 32, 0.25, 64, 4, 1.2), settings.Dataset.Random);
        Assert.Equal(9, settings.Dataset.Seed);
        Assert.Equal(500, settings.Slo.TtftMilliseconds);
        Assert.Equal(50, settings.Slo.TpotMilliseconds);
        Assert.Equal("out.json", settings.OutputJson!.Name);
        Assert.Equal("out.svg", settings.Plot!.Name);
    }

    [Fact]
    public void VllmSpellings_BindTheSameSettingsAsVllmBenchServeGivesThem()
    {
        var settings = Bind(
            "--base-url http://127.0.0.1:8000 --backend openai-chat --endpoint /v1/chat/completions --model m " +
            "--dataset-name random --random-input-len 256 --random-output-len 32 --random-range-ratio 0.25 --random-prefix-len 64 " +
            "--request-rate 12.5 --burstiness 0.5 --max-concurrency 64 --num-prompts 200 --num-warmups 3 --seed 9 " +
            "--goodput ttft:500 tpot:50 e2el:2000 --percentile-metrics ttft,tpot,itl,e2el --metric-percentiles 50,90,99.9 " +
            "--save-result --result-dir results --result-filename r.json --label proxy --metadata topology=1p1d version=2 " +
            "--ready-check-timeout-sec 30 --disable-tqdm");

        Assert.Equal(EndpointKind.Chat, settings.Shape.Endpoint);
        Assert.Equal(DatasetKind.Random, settings.Dataset.Kind);
        Assert.Equal(new RandomDatasetOptions(256, 32, 0.25, 64), settings.Dataset.Random);
        Assert.Equal(12.5, settings.Plan.RequestRate);
        Assert.Equal(0.5, settings.Plan.Burstiness);
        Assert.Equal([64], settings.ConcurrencyLevels);
        Assert.Equal(200, settings.Plan.NumPrompts);
        Assert.Equal(3, settings.Plan.Warmup);
        Assert.Equal(new PdApp.Bench.Measurement.SloSettings(500, 50, 2000), settings.Slo);
        Assert.Equal(PdApp.Bench.Measurement.LatencyMetrics.All, settings.Report.PercentileMetrics);
        Assert.Equal([50, 90, 99.9], settings.Report.MetricPercentiles);
        Assert.Equal("results", settings.SaveResult!.Directory!.Name);
        Assert.Equal("r.json", settings.SaveResult.FileName);
        Assert.Equal("openai-chat", settings.SaveResult.Backend);
        Assert.Equal([KeyValuePair.Create("topology", "1p1d"), KeyValuePair.Create("version", "2")], settings.SaveResult.Metadata);
        Assert.Equal(["proxy"], settings.Labels);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.ReadyCheckTimeout);
        Assert.False(settings.ShowProgress);
    }

    [Fact]
    public void VllmDefaults_ApplyWhenNotGiven()
    {
        var settings = Bind("--base-url http://127.0.0.1:8000 --compare http://127.0.0.1:8001/v2");

        Assert.Equal(PdApp.Bench.Measurement.LatencyMetrics.VllmDefault, settings.Report.PercentileMetrics);
        Assert.Equal([99], settings.Report.MetricPercentiles);
        Assert.Null(settings.SaveResult);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.ReadyCheckTimeout);
        Assert.Equal(["127.0.0.1:8000", "127.0.0.1:8001/v2"], settings.Labels);
        Assert.Equal("pd-direct", Bind("--pd-direct http://p:1 http://d:2").Labels[0]);
    }

    [Fact]
    public void DatasetSpecificOutputLengths_ApplyOnlyToTheirDatasetAsInVllm()
    {
        var file = Path.GetTempFileName();
        try
        {
            Assert.Null(Bind($"--base-url http://a --dataset-name sharegpt --dataset-path {file} --random-output-len 5").Dataset.OutputTokensOverride);
            Assert.Equal(7, Bind($"--base-url http://a --dataset-name sharegpt --dataset-path {file} --sharegpt-output-len 7").Dataset.OutputTokensOverride);
            Assert.Equal(9, Bind($"--base-url http://a --dataset-name custom --dataset-path {file} --custom-output-len 9").Dataset.OutputTokensOverride);
            Assert.Equal(DatasetKind.Jsonl, Bind($"--base-url http://a --dataset-name custom --dataset-path {file}").Dataset.Kind);
            Assert.Equal(11, Bind("--base-url http://a --output-len 11").Dataset.Random.OutputTokens);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ResultDirOrFilename_ImplySaveResult()
    {
        Assert.NotNull(Bind("--base-url http://a --result-dir out").SaveResult);
        Assert.Equal("x.json", Bind("--base-url http://a --result-filename x.json").SaveResult!.FileName);
    }

    [Fact]
    public void PrefixRepetitionFlags_BindAsVllmNamesThem()
    {
        var dataset = Bind("--base-url http://a --dataset-name prefix_repetition --prefix-repetition-prefix-len 1000 " +
            "--prefix-repetition-suffix-len 50 --prefix-repetition-num-prefixes 6 --prefix-repetition-output-len 32 --num-prompts 12").Dataset;

        Assert.Equal(DatasetKind.PrefixRepetition, dataset.Kind);
        Assert.Equal("prefix_repetition", dataset.Name);
        Assert.Equal(new PrefixRepetitionOptions(1000, 50, 6, 32), dataset.PrefixRepetition);
        Assert.Equal(32, dataset.FixedOutputTokens);
    }

    [Fact]
    public void MultiTurnFlags_Bind_AndOutputLenAppliesToIt()
    {
        var dataset = Bind("--base-url http://a --dataset-name multi_turn --multi-turn-turns 3 --multi-turn-system-prompt-len 500 " +
            "--multi-turn-num-system-prompts 2 --multi-turn-user-len 20 --multi-turn-active-conversations 8 --output-len 40").Dataset;

        Assert.Equal(DatasetKind.MultiTurn, dataset.Kind);
        Assert.Equal(new MultiTurnOptions(3, 500, 2, 20, 40, 8), dataset.MultiTurn);
        Assert.Equal(40, dataset.FixedOutputTokens);
    }

    [Theory]
    [InlineData("inf")]
    [InlineData("INF")]
    public void RequestRateInf_MeansUnlimited(string value)
    {
        Assert.True(double.IsPositiveInfinity(Bind($"--base-url http://a --request-rate {value}").Plan.RequestRate));
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("45", 45)]
    public void Durations_AcceptUnits(string text, double seconds)
    {
        Assert.True(OptionParsers.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    private static ParseResult Parse(string commandLine) =>
        BenchCommand.Create((_, _) => Task.FromResult(0)).Parse(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static BenchSettings Bind(string commandLine)
    {
        BenchSettings? bound = null;
        var command = BenchCommand.Create((settings, _) =>
        {
            bound = settings;
            return Task.FromResult(0);
        });
        var parse = command.Parse(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(parse.Errors);
        Assert.Equal(0, parse.Invoke());
        return bound!;
    }
}
