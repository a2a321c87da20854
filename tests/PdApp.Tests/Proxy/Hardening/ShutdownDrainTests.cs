using System.Net;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>Shutdown ends what it must cut in-band, records it as the error it was, and says so on /health first.</summary>
public sealed class ShutdownDrainTests
{
    [Fact]
    public async Task StreamLongerThanTheDrainDeadline_EndsWithAnInBandErrorAndDoneAndIsCountedAsAnError()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "200"]);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], ["Pd:Proxy:ShutdownTimeoutSeconds=3"]);

        // 200 tokens at 200 ms: 40 s, far past the 3 s drain.
        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 200, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var stopping = proxy.StopProxyAsync();
        var events = await SseEvents.ReadAllAsync(response);
        await stopping;

        Assert.Equal("[DONE]", events[^1].Data);
        using var error = JsonDocument.Parse(events[^2].Data);
        Assert.Equal(503, error.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("shutting down", error.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.InRange(events.Count, 3, 150);
        Assert.Equal(1, await WaitForAsync(() => proxy.Metrics.Sum("pdapp.proxy.requests", "status", 503)));
        Assert.Equal(0, proxy.Metrics.Sum("pdapp.proxy.requests", "status", 200));
    }

    [Fact]
    public async Task DecodeDiesMidStream_RequestIsCountedAsA502NotA200()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--fault-abort-after-tokens", "3"]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 20, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);

        Assert.Equal("[DONE]", events[^1].Data);
        Assert.Equal(1, await WaitForAsync(() => proxy.Metrics.Sum("pdapp.proxy.requests", "status", 502)));
        Assert.Equal(0, proxy.Metrics.Sum("pdapp.proxy.requests", "status", 200));
    }

    [Fact]
    public async Task DrainDelay_HealthAnswers503WhileTheListenerStaysOpen()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [Upstream.Of(decode)],
            ["Pd:Proxy:ShutdownTimeoutSeconds=10", "Pd:Proxy:ShutdownDrainDelaySeconds=3"]);
        using var fresh = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        using (var before = await fresh.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var stopping = proxy.StopProxyAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        using var during = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        using var health = await during.GetAsync(new Uri("/health", UriKind.Relative));
        await stopping;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
    }

    [Fact]
    public void DrainDelay_DefaultsToFiveSecondsWithinTheShutdownTimeout()
    {
        Assert.Equal(5, new ProxyOptions().EffectiveShutdownDrainDelaySeconds);
        Assert.Equal(3, new ProxyOptions { ShutdownTimeoutSeconds = 3 }.EffectiveShutdownDrainDelaySeconds);
        Assert.Equal(0, new ProxyOptions { ShutdownDrainDelaySeconds = 0 }.EffectiveShutdownDrainDelaySeconds);
    }

    [Fact]
    public async Task DuringTheDrain_HealthAnswers503WhileAStreamKeepsFlowing_ThenItEndsInBandAtTheDeadline()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "100"]);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [Upstream.Of(decode)],
            ["Pd:Proxy:ShutdownTimeoutSeconds=5", "Pd:Proxy:ShutdownDrainDelaySeconds=2"]);
        using var probe = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };

        // 200 tokens at 100 ms: 20 s, past the 5 s deadline.
        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 200, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var reading = SseEvents.ReadAllAsync(response);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stopping = proxy.StopProxyAsync();
        Assert.True(await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    using var health = await probe.GetAsync(new Uri("/health", UriKind.Relative));
                    return health.StatusCode == HttpStatusCode.ServiceUnavailable;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(5)));
        var unhealthyAt = clock.Elapsed;
        var events = await reading;
        await stopping;

        // Tokens kept coming after /health said 503; then the deadline ended the stream in-band.
        Assert.Contains(events, e => e.At > unhealthyAt && e.Data.Contains("\"choices\"", StringComparison.Ordinal));
        Assert.Equal("[DONE]", events[^1].Data);
        using var error = JsonDocument.Parse(events[^2].Data);
        Assert.Contains("shutting down", error.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    private static async Task<double> WaitForAsync(Func<double> read)
    {
        for (var i = 0; i < 100 && read() == 0; i++)
        {
            await Task.Delay(50);
        }

        return read();
    }
}
