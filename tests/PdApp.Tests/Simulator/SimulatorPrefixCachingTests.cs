using System.Text;

namespace PdApp.Tests.Simulator;

/// <summary>Automatic prefix caching as users see it: a repeated prompt's prefill is charged only for its uncached tokens.</summary>
public sealed class SimulatorPrefixCachingTests
{
    [Fact]
    public async Task RepeatedPrompt_HitsThePrefixCache_AndPrefillsFaster()
    {
        // ~200 tokens at 10 ms each: 2 s uncached, a few ms once cached.
        await using var sim = await RunningSimulator.StartAsync(
            ["--time-to-first-token", "1", "--prefill-time-per-token", "10", "--inter-token-latency", "1", "--block-size", "16"]);
        var prompt = new StringBuilder().Insert(0, "alpha beta gamma delta ", 50).ToString();

        await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion(prompt, maxTokens: 1));
        var afterFirst = await sim.Client.MetricsAsync();
        await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion(prompt, maxTokens: 1));
        var afterSecond = await sim.Client.MetricsAsync();

        var promptTokens = SimulatorHttp.Metric(afterFirst, "vllm:prompt_tokens_total{");
        Assert.Equal(0, SimulatorHttp.Metric(afterFirst, "vllm:prefix_cache_hits_total{"));
        Assert.Equal(promptTokens, SimulatorHttp.Metric(afterFirst, "vllm:prefix_cache_queries_total{"));
        Assert.Equal(Math.Floor((promptTokens - 1) / 16) * 16, SimulatorHttp.Metric(afterSecond, "vllm:prefix_cache_hits_total{"));

        var firstPrefill = SimulatorHttp.Metric(afterFirst, "vllm:request_prefill_time_seconds_sum{");
        var secondPrefill = SimulatorHttp.Metric(afterSecond, "vllm:request_prefill_time_seconds_sum{") - firstPrefill;
        Assert.True(firstPrefill >= 1.5, $"first prefill {firstPrefill} s");
        Assert.True(secondPrefill < firstPrefill / 2, $"second prefill {secondPrefill} s, first {firstPrefill} s");
    }
}
