using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace PdApp.Tests.Simulator;

/// <summary>Runs alone: 2,000 streams take both cores, which would skew the timing assertions of other tests.</summary>
[CollectionDefinition(nameof(SimulatorConcurrencyTests), DisableParallelization = true)]
public sealed class SimulatorConcurrencyCollection;

[Collection(nameof(SimulatorConcurrencyTests))]
public sealed class SimulatorConcurrencyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoThousandConcurrentStreams_AllComplete()
    {
        const int Streams = 2000;
        const int Tokens = 40;
        await using var sim = await RunningSimulator.StartAsync(["--max-num-seqs", "4096", "--time-to-first-token", "20", "--inter-token-latency", "100", "--time-factor-under-load", "1"]);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Streams }) { BaseAddress = sim.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var allStarted = new CountdownEvent(Streams);
        var peakRunning = 0.0;
        var allRunningAt = TimeSpan.Zero;

        async Task<int> StreamAsync(int i)
        {
            using var response = await client.SendAsync(
                SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion($"Stream {i}", maxTokens: Tokens, stream: true)),
                HttpCompletionOption.ResponseHeadersRead,
                timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var events = await SimulatorHttp.ReadEventsAsync(response, timeout.Token);
            Assert.Equal("[DONE]", events[^1].Data);
            return events.Count - 1;
        }

        var watch = Stopwatch.StartNew();
        var streams = Enumerable.Range(0, Streams).Select(i => Task.Run(() => StreamAsync(i))).ToArray();
        while (!streams.All(s => s.IsCompleted))
        {
            await Task.Delay(100);
            var running = SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "vllm:num_requests_running");
            if (running > peakRunning)
            {
                peakRunning = running;
                allRunningAt = watch.Elapsed;
            }
        }

        var chunks = await Task.WhenAll(streams);
        watch.Stop();
        output.WriteLine($"{Streams} streams x {Tokens} tokens in {watch.Elapsed.TotalSeconds:F2} s; peak running {peakRunning} reached at {allRunningAt.TotalSeconds:F2} s");

        Assert.All(chunks, count => Assert.Equal(Tokens, count));
        Assert.True(peakRunning >= Streams * 0.9, $"peak running {peakRunning}: the streams did not overlap");
        Assert.Equal(Streams, SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "vllm:request_success_total{model_name=\"dp7b\",finished_reason=\"length\"}"));
    }
}
