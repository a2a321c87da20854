using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Routing;
using PdApp.Tests.Observability.Infrastructure;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Observability;

/// <summary>Routing state as the dashboard charts it: ejections and the per-instance state gauges.</summary>
public sealed class InstanceStateMetricsTests
{
    [Fact]
    public async Task FailingPrefillInstance_IsCountedOnceAsEjectedAndShownEjected()
    {
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Dead("prefill-0")],
            [Upstream.Of(decode)],
            ["Pd:Proxy:Ejection:ConsecutiveFailures=1", "Pd:Proxy:Ejection:BaseEjectionSeconds=30", "Pd:Proxy:LoadScrape:Enabled=false"]);
        using var recorder = new InstrumentRecorder(proxy.Services.GetRequiredService<InstanceMetrics>().Meter);
        using var health = new InstrumentRecorder(proxy.Services.GetRequiredService<InstanceMetrics>().Meter);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        Assert.False(response.IsSuccessStatusCode);

        // Counted where the ejection happens, once: the retry goes elsewhere while it lasts.
        var ejections = await health.WaitForAsync("pdapp.instance.ejections", m => m.Count > 0);
        var ejection = Assert.Single(ejections);
        Assert.Equal(("prefill-0", "prefill", 1.0), (ejection.Tag("instance"), ejection.Tag("role"), ejection.Value));

        recorder.Observe();
        Assert.Contains(recorder.Of("pdapp.instance.ejected"), m => m.Tag("instance") == "prefill-0" && m.Value == 1);
        Assert.Contains(recorder.Of("pdapp.instance.available"), m => m.Tag("instance") == "prefill-0" && m.Value == 0);
        Assert.Contains(recorder.Of("pdapp.instance.ejected"), m => m.Tag("instance") == "decode-0" && m.Value == 0);
    }
}
