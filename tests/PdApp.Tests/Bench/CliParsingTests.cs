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
