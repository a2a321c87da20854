using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PdApp.Bench;
using PdApp.Protocol;

namespace PdApp.Tests.Bench;

/// <summary>The bench end to end against real HTTP servers on 127.0.0.1.</summary>
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task StreamingRun_AllRequestsSucceedWithSaneTimingsAndServerTokenCounts()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(20), TokenDelay = TimeSpan.FromMilliseconds(2) });

        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --num-prompts 20 --max-concurrency 4 --input-len 16 --output-len 8");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        var run = result.Run();
        Assert.Equal(20, run.GetProperty("completed").GetInt64());
        Assert.Equal(0, run.GetProperty("failed").GetInt64());
        Assert.Equal(160, run.GetProperty("output_tokens").GetInt64());
        Assert.Equal(320, run.GetProperty("input_tokens").GetInt64());
        var ttft = run.GetProperty("ttft_ms");
        var e2e = run.GetProperty("e2e_ms");
        Assert.InRange(ttft.GetProperty("p50").GetDouble(), 19, 1000);
        Assert.True(ttft.GetProperty("mean").GetDouble() < e2e.GetProperty("mean").GetDouble());
        Assert.Equal(20 * 7, run.GetProperty("itl_ms").GetProperty("count").GetInt64());
        Assert.InRange(run.GetProperty("tpot_ms").GetProperty("p50").GetDouble(), 1, 500);
        Assert.True(run.GetProperty("output_throughput").GetDouble() > 0);
        Assert.All(server.Requests, body =>
        {
            Assert.Equal("fake-model", (string?)body["model"]);
            Assert.True((bool?)body["stream_options"]?["include_usage"]);
        });
        Assert.Contains("TTFT", result.Output);
    }

    [Fact]
    public async Task ChatWithoutStreaming_TtftEqualsE2eAndUsageIsCounted()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.Zero });

        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --endpoint chat --no-stream --model fake-model --num-prompts 6 --input-len 8 --output-len 4");

        Assert.Equal(BenchApplication.ExitSuccess, result.ExitCode);
        var run = result.Run();
        Assert.Equal(24, run.GetProperty("output_tokens").GetInt64());
        Assert.Equal(run.GetProperty("ttft_ms").GetProperty("p50").GetDouble(), run.GetProperty("e2e_ms").GetProperty("p50").GetDouble());
        Assert.Equal(0, run.GetProperty("tpot_ms").GetProperty("count").GetInt64());
        Assert.All(server.Requests, body => Assert.Equal(4, (int?)body["max_completion_tokens"]));
    }

    [Fact]
    public async Task PdDirect_PrefillsWithOneUnstreamedTokenThenDecodesWithItsKvTransferParams()
    {
        await using var prefill = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(30),
            KvTransferParams = """{"do_remote_prefill":true,"remote_block_ids":[1,2],"remote_engine_id":"p0"}""",
        });
        await using var decode = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1) });

        var result = await BenchHarness.RunAsync($"--pd-direct {prefill.BaseUrl} {decode.BaseUrl} --connector {KvConnectorNames.Nixl} --num-prompts 5 --max-concurrency 2 --input-len 8 --output-len 6");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.Equal(1 + 5, prefill.Requests.Count);
        Assert.All(prefill.Requests, body =>
        {
            Assert.Equal(1, (int?)body["max_tokens"]);
            Assert.False((bool?)body["stream"]);
            Assert.Null(body["stream_options"]);
            Assert.True((bool?)body["kv_transfer_params"]?["do_remote_decode"]);
            Assert.False((bool?)body["kv_transfer_params"]?["do_remote_prefill"]);
        });
        Assert.Equal(1 + 5, decode.Requests.Count);
        Assert.All(decode.Requests, body =>
        {
            Assert.Equal(6, (int?)body["max_tokens"]);
            Assert.True((bool?)body["stream"]);
            Assert.Equal("p0", (string?)body["kv_transfer_params"]?["remote_engine_id"]);
        });
        var run = result.Run();
        Assert.StartsWith("pd-direct", run.GetProperty("target").GetString());
        Assert.InRange(run.GetProperty("ttft_ms").GetProperty("p50").GetDouble(), 34, 2000);
        Assert.Equal(30, run.GetProperty("output_tokens").GetInt64());
    }

    [Theory]
    [InlineData("")]
    [InlineData("--connector SharedStorageConnector")]
    [InlineData("--connector MultiConnector SharedStorageConnector PyNcclConnector")]
    public async Task PdDirect_WithAConnectorThatAddsNothing_SendsNoKvTransferParams(string connector)
    {
        await using var prefill = await FakeOpenAiServer.StartAsync(new FakeServerBehavior
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(5),
            KvTransferParams = """{"remote_engine_id":"p0"}""",
        });
        await using var decode = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1) });

        var result = await BenchHarness.RunAsync($"--pd-direct {prefill.BaseUrl} {decode.BaseUrl} {connector} --num-prompts 2 --max-concurrency 1 --input-len 8 --output-len 2");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.All(prefill.Requests, body => Assert.Null(body["kv_transfer_params"]));
        Assert.All(decode.Requests, body => Assert.Null(body["kv_transfer_params"]));
    }

    [Fact]
    public async Task Compare_SendsTheSameWorkloadToBothAndReportsAddedTtft()
    {
        await using var fast = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1) });
        await using var slow = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(60), TokenDelay = TimeSpan.FromMilliseconds(1) });

        var result = await BenchHarness.RunAsync($"--base-url {fast.BaseUrl} --compare {slow.BaseUrl} --model fake-model --num-prompts 6 --max-concurrency 2 --input-len 8 --output-len 4");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.Equal(
            fast.Requests.Select(body => (string?)body["prompt"]).Order(),
            slow.Requests.Select(body => (string?)body["prompt"]).Order());
        Assert.Equal(1 + 6, fast.Requests.Count);
        var comparison = result.Report!.RootElement.GetProperty("comparisons")[0];
        var ttft = comparison.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == "ttft_p50");
        Assert.InRange(ttft.GetProperty("delta").GetDouble(), 40, 1000);
        Assert.True(ttft.GetProperty("ratio").GetDouble() > 2);
        Assert.Contains(" vs ", result.Output);
        Assert.Contains("duration and throughput are the same for both by construction", result.Output);
        Assert.Contains("Initial test run completed.", result.Output);
    }

    [Fact]
    public async Task SequentialCompare_RunsEachTargetAloneAndComparesThroughput()
    {
        await using var fast = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1) });
        await using var slow = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(300), TokenDelay = TimeSpan.FromMilliseconds(1) });

        var result = await BenchHarness.RunAsync($"--base-url {fast.BaseUrl} --compare {slow.BaseUrl} --compare-mode sequential --model fake-model --num-prompts 8 --max-concurrency 1 --input-len 8 --output-len 4");

        Assert.True(result.ExitCode == BenchApplication.ExitSuccess, result.Output);
        Assert.Equal(1 + 8, fast.Requests.Count);
        Assert.Equal(1 + 8, slow.Requests.Count);
        var metrics = result.Report!.RootElement.GetProperty("comparisons")[0].GetProperty("metrics").EnumerateArray().ToArray();
        var throughput = metrics.Single(m => m.GetProperty("metric").GetString() == "request_throughput");
        // The slow target needs >= 2.4 s for its 8 requests alone, the fast one about 0.1 s (seen up
        // to 0.85 s while the rest of the suite loads both cores): the margin absorbs such stalls.
        Assert.InRange(throughput.GetProperty("ratio").GetDouble(), 0.01, 0.9);
        Assert.True(result.Run(1).GetProperty("duration_s").GetDouble() > result.Run(0).GetProperty("duration_s").GetDouble());
        Assert.DoesNotContain("by construction", result.Output);
    }

    [Theory]
    [InlineData("http_503")]
    [InlineData("sse_error")]
    [InlineData("incomplete_stream")]
    [InlineData("timeout")]
    public async Task FailingServer_RequestsAreCountedByErrorType(string errorKind)
    {
        var (behavior, extraArgs) = errorKind switch
        {
            "http_503" => (new FakeServerBehavior { FailStatus = 503 }, string.Empty),
            "sse_error" => (new FakeServerBehavior { InBandErrorAfter = 2 }, string.Empty),
            "incomplete_stream" => (new FakeServerBehavior { TruncateAfter = 2 }, string.Empty),
            _ => (new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromSeconds(5) }, "--timeout 150ms"),
        };
        await using var server = await FakeOpenAiServer.StartAsync(behavior);

        // The initial test request would stop the run (see InitialTestRequest_*): skip it to see every failure counted.
        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --model fake-model --num-prompts 3 --input-len 4 --output-len 4 --ready-check-timeout-sec 0 {extraArgs}");

        Assert.Equal(BenchApplication.ExitRequestsFailed, result.ExitCode);
        var run = result.Run();
        Assert.Equal(0, run.GetProperty("completed").GetInt64());
        Assert.Equal(3, run.GetProperty("errors").GetProperty(errorKind).GetInt64());
        Assert.Contains(errorKind, result.Output);
        Assert.Contains("Skipping the initial test request", result.Output);
        Assert.DoesNotContain("Initial test run completed", result.Output);
    }

    [Fact]
    public async Task InitialTestRequest_FailingWithABadRequest_StopsTheRunAtOnceWithItsErrorAndExitTwo()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FailStatus = 400 });

        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --model fake-model --num-prompts 5 --input-len 4 --output-len 4");

        Assert.Equal(BenchApplication.ExitSetupFailed, result.ExitCode);
        Assert.Contains("error: the initial test request to http://127.0.0.1:", result.Output);
        Assert.Contains("http_400", result.Output);
        Assert.Single(server.Requests);
        Assert.Null(result.Report);
    }

    [Fact]
    public async Task InitialTestRequest_ServerNotReady_IsRetriedUntilTheReadyCheckTimeoutThenStopsTheRun()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FailStatus = 503 });

        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --model fake-model --num-prompts 5 --input-len 4 --output-len 4 --ready-check-timeout-sec 1");

        Assert.Equal(BenchApplication.ExitSetupFailed, result.ExitCode);
        Assert.Contains("is not ready (http_503); retrying", result.Output);
        Assert.Contains("http_503", result.Output);
        Assert.Equal(2, server.Requests.Count);
        Assert.Null(result.Report);
    }

    [Fact]
    public async Task WarmupRequests_AreSentButNotMeasured()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(1), TokenDelay = TimeSpan.Zero });

        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --model fake-model --warmup 3 --num-prompts 5 --input-len 4 --output-len 2");

        Assert.Equal(BenchApplication.ExitSuccess, result.ExitCode);
        Assert.Equal(1 + 3 + 5, server.Requests.Count);   // initial test request, warm-up, measured
        Assert.Equal(5, result.Run().GetProperty("completed").GetInt64());
    }

    [Fact]
    public async Task DurationBoundPoissonRun_SendsTheArrivalsScheduledInsideTheWindow()
    {
        await using var server = await FakeOpenAiServer.StartAsync(new FakeServerBehavior { FirstTokenDelay = TimeSpan.FromMilliseconds(1), TokenDelay = TimeSpan.Zero });
        var schedule = new PdApp.Bench.Load.ArrivalProcess(40, seed: 4);
        var expected = 0;
        for (var at = schedule.NextInterval(); at < TimeSpan.FromSeconds(1); at += schedule.NextInterval())
        {
            expected++;
        }

        var result = await BenchHarness.RunAsync($"--base-url {server.BaseUrl} --model fake-model --duration 1s --request-rate 40 --max-concurrency 8 --input-len 4 --output-len 2 --seed 4");

        Assert.Equal(BenchApplication.ExitSuccess, result.ExitCode);
        var run = result.Run();
        Assert.InRange(expected, 20, 65);
        Assert.Equal(expected, run.GetProperty("completed").GetInt64());
        Assert.InRange(run.GetProperty("duration_s").GetDouble(), 0.8, 5);
    }

    [Fact]
    public async Task UnreachableServer_FailsSetupWithExitCodeTwo()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var result = await BenchHarness.RunAsync($"--base-url http://127.0.0.1:{port} --num-prompts 1");

        Assert.Equal(BenchApplication.ExitSetupFailed, result.ExitCode);
        Assert.Contains("error:", result.Output);
        Assert.Null(result.Report);
    }
}
