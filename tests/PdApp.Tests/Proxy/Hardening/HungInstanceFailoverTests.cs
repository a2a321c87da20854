using System.Diagnostics;
using System.Net;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>
/// A frozen instance that health checking takes out of service no longer holds its in-flight calls:
/// they stop waiting and are retried elsewhere, far sooner than any timeout.
/// </summary>
public sealed class HungInstanceFailoverTests
{
    // The frozen instance would answer after a minute; the client gives up after 30 s.
    private static readonly string[] Frozen = ["--fault-added-latency", "60000"];

    private static string[] Settings(string role) =>
    [
        "Pd:Proxy:Health:Enabled=true",
        "Pd:Proxy:Health:IntervalSeconds=0.2",
        "Pd:Proxy:Health:TimeoutSeconds=2",
        "Pd:Proxy:Health:UnhealthyThreshold=1",
        $"Pd:Proxy:Balancing:{role}=RoundRobin",
    ];

    [Fact]
    public async Task PrefillFrozen_InFlightCallsMoveToTheOtherPrefillOnceItIsMarkedUnhealthy()
    {
        var frozen = await SimulatorInstance.StartAsync("prefill-0", Frozen);
        var healthy = await SimulatorInstance.StartAsync("prefill-1");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(frozen), Upstream.Of(healthy)], [Upstream.Of(decode)], Settings("Prefill"));

        await AssertBothServedByAsync(proxy, frozen, PdHeaders.ProxyPrefillInstance, "prefill-1");
    }

    [Fact]
    public async Task DecodeFrozenBeforeItsHeaders_InFlightCallsMoveToTheOtherDecodeOnceItIsMarkedUnhealthy()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var frozen = await SimulatorInstance.StartAsync("decode-0", Frozen);
        var healthy = await SimulatorInstance.StartAsync("decode-1");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(frozen), Upstream.Of(healthy)], Settings("Decode"));

        await AssertBothServedByAsync(proxy, frozen, PdHeaders.ProxyDecodeInstance, "decode-1");
    }

    private static async Task AssertBothServedByAsync(ProxyFixture proxy, SimulatorInstance frozen, string header, string expected)
    {
        // Round robin sends one of two requests to the frozen instance.
        var started = Stopwatch.GetTimestamp();
        var requests = Enumerable.Range(0, 2).Select(_ => proxy.PostAsync("/v1/completions", Bodies.Completion())).ToArray();
        // Marked unhealthy only once its call is in flight there (admitted, waiting out the fault), so the test is about
        // in-flight calls, not routing around an instance already known to be down.
        Assert.Equal(1, await frozen.WaitForMetricAsync("vllm:num_requests_running", 1, TimeSpan.FromSeconds(15)));
        using (var admin = new HttpClient { BaseAddress = frozen.BaseAddress })
        {
            using var marked = await admin.PostAsync(new Uri("/pdsim/health?healthy=false", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, marked.StatusCode);
        }

        var responses = await Task.WhenAll(requests);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(responses, r => Assert.Equal(expected, r.Headers.GetValues(header).Single()));
        Assert.InRange(Stopwatch.GetElapsedTime(started), TimeSpan.Zero, TimeSpan.FromSeconds(25));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }
}
