using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Simulator;

public sealed class SimulatorFaultTests
{
    [Fact]
    public async Task SlowStart_Health503UntilLoaded_ThenHealthy()
    {
        var time = new FakeTimeProvider();
        await using var sim = await RunningSimulator.StartAsync(["--fault-slow-start", "60"], time: time);

        using var early = await sim.Client.GetAsync("/health");
        using var earlyCompletion = await sim.Client.SendAsync(SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Hi")));
        time.Advance(TimeSpan.FromSeconds(59));
        using var almost = await sim.Client.GetAsync("/health");
        time.Advance(TimeSpan.FromSeconds(1));
        using var later = await sim.Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, earlyCompletion.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, almost.StatusCode);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    [Fact]
    public async Task Unhealthy_Health503_UntilAdminEndpointRevivesIt()
    {
        await using var sim = await RunningSimulator.StartAsync(["--fault-unhealthy"]);

        using var dead = await sim.Client.GetAsync("/health");
        using var revive = await sim.Client.PostAsync("/pdsim/health?healthy=true", null);
        using var alive = await sim.Client.GetAsync("/health");
        using var kill = await sim.Client.PostAsync("/pdsim/health?healthy=false", null);
        using var deadAgain = await sim.Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, dead.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, deadAgain.StatusCode);
    }

    [Fact]
    public async Task FailureInjection_AllRequestsFailWithTheChosenType()
    {
        await using var sim = await RunningSimulator.StartAsync(["--failure-injection-rate", "100", "--failure-types", "rate_limit"]);

        for (var i = 0; i < 3; i++)
        {
            var (response, body) = await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hi"));
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal(429, (int)body["error"]!["code"]!);
        }

        Assert.Equal(3, SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "pdsim:injected_failures_total"));
    }

    [Fact]
    public async Task FailureInjection_HalfRate_FailsSomeAndPassesSome()
    {
        await using var sim = await RunningSimulator.StartAsync(["--failure-injection-rate", "50", "--seed", "3", "--time-to-first-token", "1", "--inter-token-latency", "1"]);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            var (response, _) = await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hi", maxTokens: 1));
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.Contains(statuses, s => s != HttpStatusCode.OK);
    }

    [Fact]
    public async Task ErrorAfterTokens_StreamEndsWithInBandErrorThenDone()
    {
        await using var sim = await RunningSimulator.StartAsync(["--fault-error-after-tokens", "3", "--inter-token-latency", "1"]);

        using var response = await sim.Client.SendAsync(SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Hi", maxTokens: 10, stream: true)), HttpCompletionOption.ResponseHeadersRead);
        var events = await SimulatorHttp.ReadEventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1].Data);
        var error = JsonNode.Parse(events[^2].Data)!;
        Assert.Equal(500, (int)error["error"]!["code"]!);
        Assert.Equal(3, events.Count - 2);
    }

    [Fact]
    public async Task AbortAfterTokens_DropsTheConnectionMidStream()
    {
        await using var sim = await RunningSimulator.StartAsync(["--fault-abort-after-tokens", "2", "--inter-token-latency", "1"]);


        // The reset may reach the client before or after it read the headers: either way no [DONE].
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var response = await sim.Client.SendAsync(SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Hi", maxTokens: 10, stream: true)), HttpCompletionOption.ResponseHeadersRead);
            await SimulatorHttp.ReadEventsAsync(response);
        });

        Assert.True(ex is HttpRequestException or IOException, ex.ToString());
    }

    [Fact]
    public async Task AddedLatency_DelaysTheFirstToken()
    {
        await using var sim = await RunningSimulator.StartAsync(["--fault-added-latency", "300", "--time-to-first-token", "1"]);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (response, _) = await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hi", maxTokens: 1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(290), watch.Elapsed.ToString());
    }

    [Fact]
    public async Task ClientDisconnect_FreesTheRunningSequence()
    {
        await using var sim = await RunningSimulator.StartAsync(["--inter-token-latency", "50", "--time-to-first-token", "1"]);

        // No draining on dispose: the client really goes away, as a user closing the tab.
        using (var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = sim.BaseAddress })
        {
            var response = await client.SendAsync(SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Long", maxTokens: 1000, stream: true)), HttpCompletionOption.ResponseHeadersRead);
            var stream = await response.Content.ReadAsStreamAsync();
            Assert.True(await stream.ReadAsync(new byte[64]) > 0);
            Assert.Equal(1, SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "vllm:num_requests_running"));
            response.Dispose();
        }

        Assert.True(await Eventually.TrueAsync(async () => SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "vllm:num_requests_running") == 0));
        Assert.Equal(1, SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "vllm:request_success_total{model_name=\"dp7b\",finished_reason=\"abort\"}"));
    }

    [Fact]
    public async Task MaxNumSeqs_ExtraRequestsWaitInTheQueue()
    {
        // The first two hold their sequences for 25 steps of 20 ms: a wide window to see 2 + 3.
        await using var sim = await RunningSimulator.StartAsync(["--max-num-seqs", "2", "--inter-token-latency", "20", "--time-to-first-token", "1"]);

        var requests = Enumerable.Range(0, 5)
            .Select(i => sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion($"Queue {i}", maxTokens: 25)))
            .ToList();
        var maxRunning = 0.0;
        var queued = await Eventually.TrueAsync(async () =>
        {
            var metrics = await sim.Client.MetricsAsync();
            var running = SimulatorHttp.Metric(metrics, "vllm:num_requests_running");
            maxRunning = Math.Max(maxRunning, running);
            return running == 2 && SimulatorHttp.Metric(metrics, "vllm:num_requests_waiting") == 3;
        });
        await Task.WhenAll(requests);

        Assert.True(queued, "never saw 2 running and 3 waiting");
        Assert.Equal(2, maxRunning);
        Assert.All(requests, r => Assert.Equal(HttpStatusCode.OK, r.Result.Response.StatusCode));
    }
}
