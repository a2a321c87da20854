using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy;

/// <summary>Retries, fallbacks, skipping prefill and cancellation, seen from the client and the instances.</summary>
public sealed class ProxyResilienceTests
{
    private const string RoundRobin = "Pd:Proxy:Balancing:Prefill=RoundRobin";
    private const string DecodeRoundRobin = "Pd:Proxy:Balancing:Decode=RoundRobin";

    [Fact]
    public async Task PrefillUnreachable_IsRetriedOnAnotherPrefillInstance()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-1");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0"), Upstream.Of(prefill)], [Upstream.Of(decode)], [RoundRobin]);

        // Round robin sends at least one of the two requests to the dead instance first.
        using var first = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        using var second = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("prefill-1", first.Headers.GetValues(PdHeaders.ProxyPrefillInstance).Single());
        Assert.Equal("prefill-1", second.Headers.GetValues(PdHeaders.ProxyPrefillInstance).Single());
        Assert.InRange(await proxy.Metrics.WaitForAsync("pdapp.proxy.prefill.retries", 1, "reason", "transport_error"), 1, 2);
        Assert.Equal(2, await prefill.ReadMetricAsync("vllm:request_success_total"));
    }

    [Fact]
    public async Task PrefillTimeout_IsRetriedOnAnotherPrefillInstance()
    {
        var slow = await SimulatorInstance.StartAsync("prefill-slow", ["--fault-added-latency", "5000"]);
        var fast = await SimulatorInstance.StartAsync("prefill-fast");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(slow), Upstream.Of(fast)], [Upstream.Of(decode)],
            [RoundRobin, "Pd:Proxy:Timeouts:PrefillSeconds=1.5"]);

        using var first = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        using var second = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.InRange(await proxy.Metrics.WaitForAsync("pdapp.proxy.prefill.retries", 1, "reason", "timeout"), 1, 2);
        Assert.Equal("prefill-fast", first.Headers.GetValues(PdHeaders.ProxyPrefillInstance).Single());

        // The abandoned prefill was cancelled on the slow instance, not left running.
        Assert.Equal(0, await slow.WaitForMetricAsync("vllm:num_requests_running", 0, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task PrefillFailsEverywhereWithFallback_DecodeServesAlone()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--failure-injection-rate", "100", "--failure-types", "server_error"]);
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], ["Pd:Proxy:DecodeOnlyFallback=true"]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains(PdHeaders.ProxyPrefillInstance));
        Assert.Equal("decode-0", response.Headers.GetValues(PdHeaders.ProxyDecodeInstance).Single());
        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.decode_only_fallbacks", 1, "reason", "prefill_failed"));
    }

    [Fact]
    public async Task NoPrefillInstanceWithFallback_DecodeServesAloneAndHealthStaysReady()
    {
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.Nixl,
            [Upstream.Dead("prefill-dead")],
            [Upstream.Of(decode)],
            ["Pd:Proxy:DecodeOnlyFallback=true", "Pd:Proxy:Health:Enabled=true", "Pd:Proxy:Health:IntervalSeconds=0.05", "Pd:Proxy:Health:UnhealthyThreshold=1"]);

        // The active health check has marked the dead prefill down: no prefill instance is left.
        var selector = proxy.Services.GetRequiredService<IInstanceSelector>();
        Assert.True(await Eventually.TrueAsync(() => !selector.HasAvailable(PdRole.Prefill)));

        using var response = await proxy.PostAsync("/v1/chat/completions", Bodies.Chat());
        using var health = await proxy.Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.decode_only_fallbacks", 1, "reason", "no_prefill_instance"));
    }

    [Fact]
    public async Task PromptUnderSkipThreshold_GoesToDecodeOnly()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], ["Pd:Proxy:Disaggregation:SkipPrefillBelowTokens=64"]);

        using var shortPrompt = await proxy.PostAsync("/v1/completions", Bodies.Completion(prompt: "Hi"));
        using var longPrompt = await proxy.PostAsync("/v1/completions", Bodies.Completion(prompt: string.Join(' ', Enumerable.Repeat("tokens", 80))));

        Assert.Equal(HttpStatusCode.OK, shortPrompt.StatusCode);
        Assert.False(shortPrompt.Headers.Contains(PdHeaders.ProxyPrefillInstance));
        Assert.Equal("prefill-0", longPrompt.Headers.GetValues(PdHeaders.ProxyPrefillInstance).Single());
        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.prefill.skipped", 1));
        Assert.Equal(1, await prefill.ReadMetricAsync("vllm:request_success_total"));
    }

    [Fact]
    public async Task DecodeUnreachable_IsRetriedOnAnotherDecodeBeforeAnyByte()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-1");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Dead("decode-0"), Upstream.Of(decode)], [DecodeRoundRobin]);

        using var first = await proxy.PostAsync("/v1/completions", Bodies.Completion(stream: true));
        using var second = await proxy.PostAsync("/v1/completions", Bodies.Completion(stream: true));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("decode-1", first.Headers.GetValues(PdHeaders.ProxyDecodeInstance).Single());
        Assert.Equal("decode-1", second.Headers.GetValues(PdHeaders.ProxyDecodeInstance).Single());
        Assert.InRange(await proxy.Metrics.WaitForAsync("pdapp.proxy.decode.retries", 1), 1, 2);
    }

    [Fact]
    public async Task ClientDisconnectDuringDecode_CancelsTheDecodeInstance()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "50"]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        using (var cts = new CancellationTokenSource())
        {
            using var response = await proxy.PostAsync(
                "/v1/completions", Bodies.Completion(maxTokens: 1000, stream: true), completion: HttpCompletionOption.ResponseHeadersRead, cancellationToken: cts.Token);
            await using var body = await response.Content.ReadAsStreamAsync(cts.Token);
            await body.ReadExactlyAsync(new byte[16], cts.Token);
            Assert.Equal(1, await decode.ReadMetricAsync("vllm:num_requests_running"));
            await cts.CancelAsync();
        }

        // 1000 tokens x 50 ms would run for 50 s; the disconnect reaches D at once.
        Assert.Equal(0, await decode.WaitForMetricAsync("vllm:num_requests_running", 0, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task ClientDisconnectDuringPrefill_CancelsThePrefillAndNeverStartsDecode()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--fault-added-latency", "10000"]);
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        using var cts = new CancellationTokenSource();
        var call = proxy.PostAsync("/v1/completions", Bodies.Completion(), cancellationToken: cts.Token);
        Assert.Equal(1, await prefill.WaitForMetricAsync("vllm:num_requests_running", 1, TimeSpan.FromSeconds(3)));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Equal(0, await prefill.WaitForMetricAsync("vllm:num_requests_running", 0, TimeSpan.FromSeconds(3)));
        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.requests", 1, "status", 499));
        Assert.Equal(0, await decode.ReadMetricAsync("vllm:request_success_total"));
    }

    [Fact]
    public async Task ClientDisconnectAfterPrefillBeforeDecodeAnswers_IsCounted()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--fault-added-latency", "10000"]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        using var cts = new CancellationTokenSource();
        var call = proxy.PostAsync("/v1/completions", Bodies.Completion(), cancellationToken: cts.Token);
        Assert.Equal(1, await decode.WaitForMetricAsync("vllm:num_requests_running", 1, TimeSpan.FromSeconds(3)));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.cancelled_after_prefill", 1));
        Assert.Equal(0, await decode.WaitForMetricAsync("vllm:num_requests_running", 0, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public async Task ShutdownDuringAStream_FinishesTheStreamAndRefusesNewConnections()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "20"]);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], ["Pd:Proxy:ShutdownTimeoutSeconds=10"]);

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 40, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var stopping = proxy.StopProxyAsync();
        var events = await SseEvents.ReadAllAsync(response);
        await stopping;

        Assert.Equal("[DONE]", events[^1].Data);
        Assert.Equal(41, events.Count);
        using var fresh = new HttpClient { BaseAddress = proxy.BaseAddress };
        await Assert.ThrowsAsync<HttpRequestException>(() => fresh.GetAsync("/health"));
    }
}
