using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Bench;
using PdApp.Protocol;
using PdApp.Simulator;

namespace PdApp.Tests.Bench;

/// <summary>Short bench runs against the real vLLM simulator on 127.0.0.1.</summary>
public sealed class SimulatorBenchTests
{
    [Fact]
    public async Task SmokeRunAgainstTheSimulator_AllSucceedWithTtftBelowE2eAndTokensCounted()
    {
        await using var simulator = await StartAsync(["serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "5", "--inter-token-latency", "1"]);
        var baseUrl = SimulatorApp.GetBaseAddress(simulator);

        var result = await BenchHarness.RunAsync($"--base-url {baseUrl} --num-prompts 12 --max-concurrency 4 --input-len 32 --output-len 8 --ignore-eos --warmup 2");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        var run = result.Run();
        Assert.Equal(12, run.GetProperty("completed").GetInt64());
        Assert.Equal(0, run.GetProperty("failed").GetInt64());
        Assert.Equal(12 * 8, run.GetProperty("output_tokens").GetInt64());
        Assert.InRange(run.GetProperty("input_tokens").GetInt64(), 12 * 32 * 0.8, 12 * 32 * 1.3);
        var ttft = run.GetProperty("ttft_ms");
        Assert.True(ttft.GetProperty("p50").GetDouble() > 0);
        // <= for the maxima: on a starved machine a request's tokens can arrive in one burst, leaving
        // its TTFT within the histogram's 0.1% precision of its E2E.
        Assert.True(ttft.GetProperty("max").GetDouble() <= run.GetProperty("e2e_ms").GetProperty("max").GetDouble());
        Assert.True(ttft.GetProperty("mean").GetDouble() < run.GetProperty("e2e_ms").GetProperty("mean").GetDouble());
        Assert.Equal(12 * 7, run.GetProperty("itl_ms").GetProperty("count").GetInt64());
        Assert.Equal("m", result.Report!.RootElement.GetProperty("config").GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("--dataset-name multi_turn --multi-turn-turns 3 --multi-turn-system-prompt-len 64 --multi-turn-num-system-prompts 1 --multi-turn-user-len 16 --multi-turn-output-len 4 --multi-turn-active-conversations 2")]
    [InlineData("--dataset-name prefix_repetition --prefix-repetition-prefix-len 64 --prefix-repetition-suffix-len 16 --prefix-repetition-num-prefixes 2 --prefix-repetition-output-len 4")]
    public async Task PrefixWorkloads_HitTheEnginesPrefixCache(string workload)
    {
        await using var simulator = await StartAsync(["serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "1", "--inter-token-latency", "1", "--block-size", "16"]);
        var baseUrl = SimulatorApp.GetBaseAddress(simulator);

        var result = await BenchHarness.RunAsync($"--base-url {baseUrl} {workload} --num-prompts 6 --max-concurrency 1 --ignore-eos --warmup 0");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.Equal(6, result.Run().GetProperty("completed").GetInt64());
        using var http = new HttpClient { BaseAddress = baseUrl };
        var metrics = await http.GetStringAsync("/metrics");
        double Counter(string name) => metrics.Split('\n').Where(line => line.StartsWith(name, StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

        // The engine tokenizes the prompts itself: later prompts reuse the blocks of the shared
        // system prompt / prefix and, for conversations, of the previous turn.
        var queried = Counter("vllm:prefix_cache_queries_total");
        var hits = Counter("vllm:prefix_cache_hits_total");
        Assert.True(hits >= 0.4 * queried, $"{hits} of {queried} prompt tokens were cached");
    }

    [Fact]
    public async Task PdDirectAgainstSharedStorageSimulators_DecodeFindsThePrefilledKv()
    {
        await using var pair = await SharedStoragePair.StartAsync();
        var (prefill, decode, storage) = (pair.Prefill, pair.Decode, pair.Storage);

        var result = await BenchHarness.RunAsync(
            $"--pd-direct {SimulatorApp.GetBaseAddress(prefill)} {SimulatorApp.GetBaseAddress(decode)} --num-prompts 6 --max-concurrency 2 --input-len 32 --output-len 6 --ignore-eos");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        var run = result.Run();
        Assert.Equal(6, run.GetProperty("completed").GetInt64());
        Assert.Equal(36, run.GetProperty("output_tokens").GetInt64());
        Assert.NotEmpty(storage.EnumerateFileSystemInfos());
    }

    [Theory]
    [InlineData("--connector NixlConnector", true)]
    [InlineData("", false)]
    public async Task PdDirectAgainstNixlSimulators_DecodePullsTheKvOnlyWhenToldTheConnector(string connector, bool pulled)
    {
        var sideChannel = new Dictionary<string, string?> { ["VLLM_NIXL_SIDE_CHANNEL_PORT"] = "0", ["VLLM_NIXL_SIDE_CHANNEL_HOST"] = "127.0.0.1" };
        string[] nixl = ["--kv-transfer-config", new KvTransferConfig { KvConnector = KvConnectorNames.Nixl, KvRole = KvRoles.Both }.ToJson()];
        await using var prefill = await PdApp.Tests.Simulator.RunningSimulator.StartAsync(nixl, sideChannel);
        await using var decode = await PdApp.Tests.Simulator.RunningSimulator.StartAsync(nixl, sideChannel);

        var result = await BenchHarness.RunAsync(
            $"--pd-direct {SimulatorApp.GetBaseAddress(prefill.App)} {SimulatorApp.GetBaseAddress(decode.App)} {connector} --num-prompts 6 --max-concurrency 2 --input-len 64 --output-len 4 --ignore-eos");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.Equal(6, result.Run().GetProperty("completed").GetInt64());
        var metrics = await decode.Client.GetStringAsync("/metrics");
        var hitLines = metrics.Split('\n').Where(line => line.StartsWith("pdsim:kv_transfer_hits_total{", StringComparison.Ordinal));
        var hits = hitLines.Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

        // The warm-up request and the six measured ones all found the KV, or none did.
        Assert.Equal(pulled ? 1 + 6 : 0, hits);
    }

    [Fact]
    public async Task ProxyComparedWithPdDirect_BothPathsServeTheSameWorkloadAndTheComparisonIsReported()
    {
        await using var pair = await SharedStoragePair.StartAsync();
        var prefillUrl = SimulatorApp.GetBaseAddress(pair.Prefill);
        var decodeUrl = SimulatorApp.GetBaseAddress(pair.Decode);
        await using var proxy = PdApp.Proxy.ProxyApp.Create(
        [
            "--urls=http://127.0.0.1:0",
            "--Pd:Connector=SharedStorageConnector",
            "--Pd:Proxy:ShutdownDrainDelaySeconds=0",
            "--Pd:Instances:0:Name=prefill-0", "--Pd:Instances:0:Role=Prefill", $"--Pd:Instances:0:Address={prefillUrl}",
            "--Pd:Instances:1:Name=decode-0", "--Pd:Instances:1:Role=Decode", $"--Pd:Instances:1:Address={decodeUrl}",
        ]);
        await proxy.StartAsync();
        var proxyUrl = proxy.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var result = await BenchHarness.RunAsync(
            $"--pd-direct {prefillUrl} {decodeUrl} --compare {proxyUrl} --model m --num-prompts 6 --max-concurrency 2 --input-len 32 --output-len 6 --ignore-eos");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.Equal(6, result.Run(0).GetProperty("completed").GetInt64());
        Assert.Equal(6, result.Run(1).GetProperty("completed").GetInt64());
        Assert.Equal(36, result.Run(1).GetProperty("output_tokens").GetInt64());
        var comparison = result.Report!.RootElement.GetProperty("comparisons")[0];
        Assert.StartsWith("pd-direct", comparison.GetProperty("baseline").GetString());
        Assert.Contains(comparison.GetProperty("metrics").EnumerateArray(), m => m.GetProperty("metric").GetString() == "ttft_p99");
    }

    private static async Task<WebApplication> StartAsync(string[] args)
    {
        var app = SimulatorApp.Create(args);
        await app.StartAsync();
        return app;
    }

    /// <summary>A SharedStorageConnector prefill/decode pair of simulators over one temporary folder.</summary>
    private sealed class SharedStoragePair : IAsyncDisposable
    {
        private SharedStoragePair(WebApplication prefill, WebApplication decode, DirectoryInfo storage) =>
            (Prefill, Decode, Storage) = (prefill, decode, storage);

        public WebApplication Prefill { get; }

        public WebApplication Decode { get; }

        public DirectoryInfo Storage { get; }

        public static async Task<SharedStoragePair> StartAsync()
        {
            var storage = Directory.CreateTempSubdirectory("pdapp-bench-kv-");
            var prefill = await SimulatorBenchTests.StartAsync(Args(KvRoles.Producer, storage));
            var decode = await SimulatorBenchTests.StartAsync(Args(KvRoles.Consumer, storage));
            return new SharedStoragePair(prefill, decode, storage);
        }

        public async ValueTask DisposeAsync()
        {
            await Prefill.DisposeAsync();
            await Decode.DisposeAsync();
            Storage.Delete(recursive: true);
        }

        private static string[] Args(string role, DirectoryInfo storage) =>
        [
            "serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "5", "--inter-token-latency", "1",
            "--kv-transfer-config",
            new KvTransferConfig
            {
                KvConnector = KvConnectorNames.SharedStorage,
                KvRole = role,
                KvConnectorExtraConfig = new() { ["shared_storage_path"] = storage.FullName },
            }.ToJson(),
        ];
    }
}
