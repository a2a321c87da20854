using System.Net;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>Concurrency, queue and rate limits answer 429 with Retry-After.</summary>
public sealed class ProxyAdmissionTests
{
    private static async Task<ProxyFixture> StartAsync(params string[] settings)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "40"]);
        return await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], settings);
    }

    [Fact]
    public async Task ConcurrencyFullAndNoQueue_Returns429WithRetryAfter()
    {
        await using var proxy = await StartAsync("Pd:Proxy:Admission:MaxConcurrentRequests=1", "Pd:Proxy:Admission:MaxQueueLength=0", "Pd:Proxy:Admission:RetryAfterSeconds=3");

        using var busy = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 20, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        using var refused = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.OK, busy.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        Assert.Contains(OpenAiErrorTypes.RateLimit, await refused.Content.ReadAsStringAsync());
        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.admission.rejected", 1, "reason", "queue_full"));
    }

    [Fact]
    public async Task QueuedLongerThanQueueTimeout_Returns429()
    {
        await using var proxy = await StartAsync("Pd:Proxy:Admission:MaxConcurrentRequests=1", "Pd:Proxy:Admission:MaxQueueLength=4", "Pd:Proxy:Admission:QueueTimeoutSeconds=0.2");

        using var busy = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 20, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var started = DateTime.UtcNow;
        using var refused = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(150), "the request should have waited in the queue");
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.admission.rejected", 1, "reason", "queue_timeout"));
    }

    [Fact]
    public async Task QueuedRequest_IsServedWhenASlotFrees()
    {
        await using var proxy = await StartAsync("Pd:Proxy:Admission:MaxConcurrentRequests=1", "Pd:Proxy:Admission:MaxQueueLength=4");

        var first = proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 5));
        var second = proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 5));

        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
    }

    [Fact]
    public async Task OverRequestsPerSecond_Returns429WithRetryAfter()
    {
        await using var proxy = await StartAsync("Pd:Proxy:Admission:RequestsPerSecond=1", "Pd:Proxy:Admission:Burst=1");

        using var allowed = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));
        using var limited = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.admission.rejected", 1, "reason", "rate_limited"));
    }

    [Fact]
    public async Task OverRequestsPerSecondInWaitMode_IsServedAfterTheRefillInsteadOf429()
    {
        await using var proxy = await StartAsync(
            "Pd:Proxy:Admission:RequestsPerSecond=5", "Pd:Proxy:Admission:Burst=1", "Pd:Proxy:Admission:RateLimitMode=wait", "Pd:Proxy:Admission:RateLimitMaxWaitSeconds=30");

        var first = proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));
        var second = proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));

        using var firstResponse = await first;
        using var secondResponse = await second;
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
    }
}
