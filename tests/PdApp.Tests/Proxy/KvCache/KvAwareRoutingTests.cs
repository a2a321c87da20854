using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Protocol.KvEvents;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Simulator.KvEvents;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.KvCache;

/// <summary>
/// KV-cache-aware routing end to end: simulators publishing vLLM KV events over ZeroMQ, the proxy
/// indexing them, tokenizing through <c>/tokenize</c>, and routing on what each engine holds.
/// </summary>
public sealed class KvAwareRoutingTests
{
    private const string EventsConfig = """{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:0","replay_endpoint":"tcp://*:0"}""";
    private static readonly string[] SimulatorArgs = ["--kv-events-config", EventsConfig, "--block-size", "16", "--prefill-time-per-token", "0.01"];

    [Fact]
    public async Task PrefillKvAware_SendsARepeatedPrefixToTheInstanceThatHoldsIt()
    {
        var prefill0 = await SimulatorInstance.StartAsync("prefill-0", SimulatorArgs);
        var prefill1 = await SimulatorInstance.StartAsync("prefill-1", SimulatorArgs);
        var decode = await SimulatorInstance.StartAsync("decode-0", SimulatorArgs);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill0), Upstream.Of(prefill1)],
            [Upstream.Of(decode)],
            ["Pd:Proxy:Balancing:Prefill=KvAware", .. EndpointSettings(prefill0, prefill1, decode)]);
        await WaitIndexedAsync(proxy, prefill0, prefill1, decode);

        // prefill-1 alone computes a long system prompt (sent to it directly, not through the proxy).
        var system = LongText("You are a careful assistant for the shipping company.", 12);
        var indexed = Index(proxy).BlocksOf("prefill-1");
        await PostDirectAsync(prefill1, system + " First question?");
        await WaitUntilAsync(() => Index(proxy).BlocksOf("prefill-1") >= indexed + 6);
        var before0 = await prefill0.ReadMetricAsync("vllm:prompt_tokens_total");
        var hitsBefore1 = await prefill1.ReadMetricAsync("vllm:prefix_cache_hits_total");

        using var response = await proxy.PostAsync("/v1/completions", Completion(system + " Second question?"));

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal(before0, await prefill0.ReadMetricAsync("vllm:prompt_tokens_total"));
        Assert.True(await prefill1.ReadMetricAsync("vllm:prefix_cache_hits_total") > hitsBefore1 + 100);
    }

    [Fact]
    public async Task SecondTurn_SkipsPrefill_WhenDecodeHoldsTheConversation()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", SimulatorArgs);
        var decode = await SimulatorInstance.StartAsync("decode-0", SimulatorArgs);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [Upstream.Of(decode)],
            ["Pd:Proxy:KvCache:Enabled=true", "Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens=64", .. EndpointSettings(prefill, decode)]);
        await WaitIndexedAsync(proxy, prefill, decode);
        var firstTurn = LongText("User: plan a three day trip to Lisbon with museums and food.", 10);

        using (var first = await proxy.PostAsync("/v1/completions", Completion(firstTurn)))
        {
            Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        }

        await WaitUntilAsync(() => Index(proxy).BlocksOf("decode-0") >= 6);
        var prefillPrompts = await prefill.ReadMetricAsync("vllm:prompt_tokens_total");
        var decodeHits = await decode.ReadMetricAsync("vllm:prefix_cache_hits_total");

        using var second = await proxy.PostAsync("/v1/completions", Completion(firstTurn + " Assistant: Day one. User: and day two?"));

        Assert.True(second.IsSuccessStatusCode, await second.Content.ReadAsStringAsync());
        Assert.Equal(prefillPrompts, await prefill.ReadMetricAsync("vllm:prompt_tokens_total"));
        Assert.True(await decode.ReadMetricAsync("vllm:prefix_cache_hits_total") > decodeHits);

        // The KV cache index's meter is exported with the proxy's others.
        var metrics = await proxy.Client.GetStringAsync("/metrics");
        Assert.Contains("pdapp_proxy_kvcache_pd_decisions", metrics, StringComparison.Ordinal);
    }

    private static KvBlockIndex Index(ProxyFixture proxy) => proxy.Services.GetRequiredService<KvBlockIndex>();

    private static IEnumerable<string> EndpointSettings(params SimulatorInstance[] simulators)
    {
        foreach (var simulator in simulators)
        {
            var publisher = simulator.Services.GetRequiredService<ZmqKvEventPublisher>();
            yield return $"Pd:Proxy:KvCache:Endpoints:{simulator.Name}:Endpoint={KvEventsConfig.Connectable(publisher.Endpoint, "127.0.0.1")}";
            yield return $"Pd:Proxy:KvCache:Endpoints:{simulator.Name}:ReplayEndpoint={KvEventsConfig.Connectable(publisher.ReplayEndpoint!, "127.0.0.1")}";
        }
    }

    /// <summary>
    /// A subscriber misses what is published before its subscription reaches the publisher (ZeroMQ's
    /// slow joiner); warm-up prompts sent to each engine until the index shows them prove the
    /// subscriptions are live (replay recovers the first ones).
    /// </summary>
    private static async Task WaitIndexedAsync(ProxyFixture proxy, params SimulatorInstance[] simulators)
    {
        foreach (var simulator in simulators)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            for (var i = 0; Index(proxy).BlocksOf(simulator.Name) == 0; i++)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no KV events indexed for {simulator.Name}");
                await PostDirectAsync(simulator, $"warm-up {i} " + LongText("lorem ipsum dolor sit amet", 4));
                await Task.Delay(200);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 20 s");
            await Task.Delay(50);
        }
    }

    private static async Task PostDirectAsync(SimulatorInstance simulator, string prompt)
    {
        using var client = new HttpClient { BaseAddress = simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await client.PostAsync(
            "/v1/completions", new StringContent(Completion(prompt), Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private static string Completion(string prompt) =>
        new JsonObject { ["model"] = ProxyFixture.Model, ["prompt"] = prompt, ["max_tokens"] = 2 }.ToJsonString();

    private static string LongText(string sentence, int times) => new StringBuilder().Insert(0, sentence + " ", times).ToString();
}
