using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Bench;
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

    [Fact]
    public async Task PdDirectAgainstSharedStorageSimulators_DecodeFindsThePrefilledKv()
    {
        var storage = Directory.CreateTempSubdirectory("pdapp-bench-kv-");
        try
        {
            string Config(string role) => JsonSerializer.Serialize(new
            {
                kv_connector = "SharedStorageConnector",
                kv_role = role,
                kv_connector_extra_config = new { shared_storage_path = storage.FullName },
            });
            await using var prefill = await StartAsync(["serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "5", "--inter-token-latency", "1", "--kv-transfer-config", Config("kv_producer")]);
            await using var decode = await StartAsync(["serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "5", "--inter-token-latency", "1", "--kv-transfer-config", Config("kv_consumer")]);

            var result = await BenchHarness.RunAsync(
                $"--pd-direct {SimulatorApp.GetBaseAddress(prefill)} {SimulatorApp.GetBaseAddress(decode)} --num-prompts 6 --max-concurrency 2 --input-len 32 --output-len 6 --ignore-eos");

            Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
            var run = result.Run();
            Assert.Equal(6, run.GetProperty("completed").GetInt64());
            Assert.Equal(36, run.GetProperty("output_tokens").GetInt64());
            Assert.NotEmpty(storage.EnumerateFileSystemInfos());
        }
        finally
        {
            storage.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ProxyComparedWithPdDirect_BothPathsServeTheSameWorkloadAndTheComparisonIsReported()
    {
        var storage = Directory.CreateTempSubdirectory("pdapp-bench-kv-");
        try
        {
            string Config(string role) => JsonSerializer.Serialize(new
            {
                kv_connector = "SharedStorageConnector",
                kv_role = role,
                kv_connector_extra_config = new { shared_storage_path = storage.FullName },
            });
            await using var prefill = await StartAsync(["serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "5", "--inter-token-latency", "1", "--kv-transfer-config", Config("kv_producer")]);
            await using var decode = await StartAsync(["serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "5", "--inter-token-latency", "1", "--kv-transfer-config", Config("kv_consumer")]);
            var prefillUrl = SimulatorApp.GetBaseAddress(prefill);
            var decodeUrl = SimulatorApp.GetBaseAddress(decode);
            await using var proxy = PdApp.Proxy.ProxyApp.Create(
            [
                "--urls=http://127.0.0.1:0",
                "--Pd:Connector=SharedStorageConnector",
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
        finally
        {
            storage.Delete(recursive: true);
        }
    }

    private static async Task<WebApplication> StartAsync(string[] args)
    {
        var app = SimulatorApp.Create(args);
        await app.StartAsync();
        return app;
    }
}
