using System.Diagnostics;
using System.Text;

namespace PdApp.Tests.Simulator;

/// <summary>
/// Prompt tokens computed on an instance that is decoding (a decode-alone request on a decode
/// instance) slow its running streams, as vLLM's mixed chunked-prefill steps do; off with
/// <c>--no-prefill-interference</c>.
/// </summary>
public sealed class SimulatorPrefillInterferenceTests
{
    // ~1,000 tokens at 2 ms each: a 2 s prefill; the stream alone needs 60 steps of 10 ms.
    private static readonly string LongPrompt = new StringBuilder().Insert(0, "alpha beta gamma delta ", 250).ToString();

    [Fact]
    public async Task APrefillOnTheSameInstance_StallsARunningStream_ForItsComputeTime()
    {
        var (streamSeconds, streamEndedFirst) = await StreamBesidePrefillAsync([]);

        Assert.True(streamSeconds >= 1.5, $"the stream took {streamSeconds:0.00} s beside a 2 s prefill");
        Assert.False(streamEndedFirst);
    }

    [Fact]
    public async Task WithoutInterference_TheStreamKeepsItsPace()
    {
        var (streamSeconds, streamEndedFirst) = await StreamBesidePrefillAsync(["--no-prefill-interference"]);

        Assert.True(streamEndedFirst, $"the stream ({streamSeconds:0.00} s) ended after the 2 s prefill");
    }

    private static async Task<(double StreamSeconds, bool StreamEndedFirst)> StreamBesidePrefillAsync(string[] extraArgs)
    {
        await using var sim = await RunningSimulator.StartAsync(
        [
            "--prefill-contention", "--time-to-first-token", "1", "--prefill-time-per-token", "2",
            "--inter-token-latency", "10", "--block-size", "16", .. extraArgs,
        ]);
        using var streamRequest = SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("hello there", maxTokens: 60, stream: true));
        using var stream = await sim.Client.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead);
        stream.EnsureSuccessStatusCode();

        // The stream decodes now (its headers follow its prefill); a long prompt arrives on the same instance.
        var clock = Stopwatch.StartNew();
        var prefill = sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion(LongPrompt, maxTokens: 1));
        var events = await SimulatorHttp.ReadEventsAsync(stream);
        var streamSeconds = clock.Elapsed.TotalSeconds;
        var streamEndedFirst = !prefill.IsCompleted;
        var (response, _) = await prefill;
        response.EnsureSuccessStatusCode();
        Assert.Contains(events, e => e.Data == "[DONE]");
        return (streamSeconds, streamEndedFirst);
    }
}
