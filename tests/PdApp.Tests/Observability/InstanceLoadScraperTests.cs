using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Routing;
using PdApp.Tests.Observability.Infrastructure;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Observability;

/// <summary>The proxy scrapes its instances' /metrics into routing state and republishes the load as gauges.</summary>
public sealed class InstanceLoadScraperTests
{
    private static readonly string[] FastScrape =
    [
        "Pd:Proxy:LoadScrape:IntervalSeconds=0.1",
        "Pd:Proxy:LoadScrape:TimeoutSeconds=0.1",
    ];

    [Fact]
    public async Task RunningRequest_AppearsInDecodeLoadAndGauges()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "20"]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], FastScrape);
        using var gauges = new InstrumentRecorder(proxy.Services.GetRequiredService<InstanceMetrics>().Meter);
        var registry = proxy.Services.GetRequiredService<IInstanceRegistry>();

        // 300 tokens 20 ms apart: the decode runs for ~6 s, long enough to be seen by a scrape. No
        // response draining, so disposing the response closes the connection (the client leaves).
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = proxy.BaseAddress };
        var response = await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent(Bodies.Completion(maxTokens: 300, stream: true), System.Text.Encoding.UTF8, "application/json"),
            },
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var load = await WaitForAsync(() => registry.Find("decode-0")?.Load is { Running: 1 } l ? l : null);

        Assert.NotNull(load);
        Assert.Equal(0, load.Waiting);
        Assert.InRange(load.KvCacheUsage, double.Epsilon, 1);
        Assert.True(DateTimeOffset.UtcNow - load.ObservedAt < TimeSpan.FromSeconds(2));
        var running = await gauges.WaitForAsync(
            "pdapp.instance.requests_running", m => m.Any(x => x.Tag("instance") == "decode-0" && x.Value == 1), observe: true);
        Assert.Contains(running, m => m.Tag("instance") == "decode-0" && m.Tag("role") == "decode" && m.Value == 1 && m.Unit == "{request}");
        Assert.Contains(gauges.Of("pdapp.instance.requests_outstanding"), m => m.Tag("instance") == "decode-0" && m.Value == 1);
        Assert.Contains(gauges.Of("pdapp.instance.kv_cache_usage"), m => m.Tag("instance") == "decode-0" && m.Value > 0 && m.Unit == "1");
        Assert.Contains(gauges.Of("pdapp.instance.requests_waiting"), m => m.Tag("instance") == "prefill-0" && m.Value == 0);
        Assert.Contains(gauges.Of("pdapp.instance.available"), m => m.Tag("instance") == "prefill-0" && m.Value == 1);

        // After the client leaves, the engine's running count drops back to zero in the next scrapes.
        response.Dispose();
        var idle = await WaitForAsync(() => registry.Find("decode-0")?.Load is { Running: 0 } l ? l : null);
        Assert.NotNull(idle);
    }

    [Fact]
    public async Task UnreachableInstance_CountsScrapeErrorsAndPublishesNoLoad()
    {
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0")], [Upstream.Of(decode)], FastScrape);
        using var recorder = new InstrumentRecorder(proxy.Services.GetRequiredService<InstanceMetrics>().Meter);

        var errors = await recorder.WaitForAsync("pdapp.instance.load_scrape.errors", m => m.Any(x => x.Tag("instance") == "prefill-0"));
        Assert.Contains(errors, m => m.Tag("instance") == "prefill-0" && m.Tag("reason") == "transport" && m.Tag("role") == "prefill");

        await WaitForAsync(() => proxy.Services.GetRequiredService<IInstanceRegistry>().Find("decode-0")?.Load);
        recorder.Observe();
        Assert.Contains(recorder.Of("pdapp.instance.requests_running"), m => m.Tag("instance") == "decode-0");
        Assert.DoesNotContain(recorder.Of("pdapp.instance.requests_running"), m => m.Tag("instance") == "prefill-0");

        // The load is published before the scrape's duration is recorded: wait for it, do not race it.
        var durations = await recorder.WaitForAsync("pdapp.instance.load_scrape.duration", m => m.Any(x => x.Tag("instance") == "decode-0"));
        Assert.Contains(durations, m => m.Tag("instance") == "decode-0" && m.Unit == "s");
    }

    [Fact]
    public async Task InvalidInterval_FailsStartNamingTheSetting()
    {
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var _ = decode;

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0")], [Upstream.Of(decode)], ["Pd:Proxy:LoadScrape:IntervalSeconds=0"]));

        Assert.Contains("Pd:Proxy:LoadScrape:IntervalSeconds", error.Message);
    }

    private static async Task<T?> WaitForAsync<T>(Func<T?> read)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        T? value;
        while ((value = read()) is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return value;
    }
}
