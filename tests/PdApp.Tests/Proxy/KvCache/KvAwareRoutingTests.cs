using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Protocol.KvEvents;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Proxy.Routing.Load;
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

    [Fact]
    public async Task MigratedStream_ContinuesOnDecodeAlone_WhenTheNewDecodeHoldsTheExtendedPrompt()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", SimulatorArgs);
        var faulty = await SimulatorInstance.StartAsync("decode-0", [.. SimulatorArgs, "--fault-abort-after-tokens", "8"]);
        var healthy = await SimulatorInstance.StartAsync("decode-1", SimulatorArgs);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [Upstream.Of(faulty), Upstream.Of(healthy)],
            ["Pd:Proxy:KvCache:Enabled=true", "Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens=16", .. EndpointSettings(prefill, faulty, healthy)]);
        await WaitIndexedAsync(proxy, prefill, faulty, healthy);

        // A prompt shorter than one block (16 tokens): no decode instance can hold it, so the request
        // itself is prefilled. decode-1 holds the prompt and its whole answer (as after an earlier
        // turn): the continuation's extended prompt, cut after a few tokens, is a prefix of that.
        const string prompt = "Write about the longest rivers of Europe and their banks:";
        var body = new JsonObject
        {
            ["model"] = ProxyFixture.Model, ["prompt"] = prompt, ["max_tokens"] = 24, ["seed"] = 7, ["stream"] = true,
        }.ToJsonString();
        var reference = await StreamTextAsync(healthy.BaseAddress, body);
        var indexed = Index(proxy).BlocksOf("decode-1");
        await PostDirectAsync(healthy, prompt + reference.Text);
        await WaitUntilAsync(() => Index(proxy).BlocksOf("decode-1") >= indexed + 2);

        // The balancer alternates: send until the faulty decode instance serves the stream.
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var prefills = await prefill.ReadMetricAsync("vllm:request_prefill_time_seconds_count");
            var hits = await healthy.ReadMetricAsync("vllm:prefix_cache_hits_total");
            var stream = await StreamTextAsync(proxy.Client.BaseAddress!, body, proxy.Client);
            if (stream.ServedBy != "decode-0")
            {
                continue;
            }

            Assert.Equal(reference.Text, stream.Text);
            Assert.DoesNotContain(stream.Events, e => e.Contains("\"error\"", StringComparison.Ordinal));
            Assert.Equal("[DONE]", stream.Events[^1]);

            // One prefill (the request's own); the continuation went to decode-1 alone and hit its cache.
            Assert.Equal(prefills + 1, await prefill.ReadMetricAsync("vllm:request_prefill_time_seconds_count"));
            Assert.True(await healthy.ReadMetricAsync("vllm:prefix_cache_hits_total") >= hits + 16);
            Assert.Equal(1, await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "outcome", "migrated"));
            var decisions = PrometheusTextParser.Parse(await proxy.Client.GetStringAsync("/metrics")).Samples
                .Where(s => s.Name.StartsWith("pdapp_proxy_kvcache_pd_decisions", StringComparison.Ordinal) && s.Label("reason") == "decode_holds_prompt")
                .Sum(s => s.Value);
            Assert.Equal(1, decisions);
            return;
        }

        Assert.Fail("No request was served by decode-0.");
    }

    [Fact]
    public async Task FailedPrefillsAndBrokenStreams_LeaveNoWorkChargedOnAnyInstance()
    {
        var failing = await SimulatorInstance.StartAsync("prefill-0", [.. SimulatorArgs, "--failure-injection-rate", "100", "--failure-types", "server_error"]);
        var prefill = await SimulatorInstance.StartAsync("prefill-1", SimulatorArgs);
        var aborting = await SimulatorInstance.StartAsync("decode-0", [.. SimulatorArgs, "--fault-abort-after-tokens", "3"]);
        var decode = await SimulatorInstance.StartAsync("decode-1", SimulatorArgs);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(failing), Upstream.Of(prefill)],
            [Upstream.Of(aborting), Upstream.Of(decode)],
            ["Pd:Proxy:Balancing:Prefill=KvAware", "Pd:Proxy:Balancing:Decode=KvAware", .. EndpointSettings(failing, prefill, aborting, decode)]);
        await WaitIndexedAsync(proxy, prefill, aborting, decode); // prefill-0 fails everything, its warm-ups too
        var registry = proxy.Services.GetRequiredService<PdApp.Proxy.Routing.IInstanceRegistry>();
        PdApp.Proxy.Routing.UpstreamInstance[] all = [.. registry.GetInstances(PdRole.Prefill), .. registry.GetInstances(PdRole.Decode)];

        // Prefills that fail on prefill-0 and are retried on prefill-1, streams that decode-0 breaks off
        // (and migration continues elsewhere), a client that goes away mid-stream: each charged work.
        for (var i = 0; i < 6; i++)
        {
            var body = new JsonObject
            {
                ["model"] = ProxyFixture.Model, ["prompt"] = $"request {i}: " + LongText("tell me about the rivers of Europe", 6), ["max_tokens"] = 8, ["stream"] = true,
            }.ToJsonString();
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (i % 3 != 2)
            {
                await response.Content.ReadAsStringAsync();
            }
        }

        Assert.True(await proxy.Metrics.WaitForAsync("pdapp.proxy.prefill.retries", 1) >= 1);
        var released = await PdApp.Tests.Proxy.Routing.Eventually.TrueAsync(
            () => all.All(i => i.Outstanding == 0 && i.PendingPrefillTokens == 0 && i.PendingBlocks == 0), TimeSpan.FromSeconds(20));
        Assert.True(released, string.Join(", ", all.Select(i => $"{i.Name}: {i.Outstanding} outstanding, {i.PendingPrefillTokens} tokens, {i.PendingBlocks} blocks")));
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

    private static async Task<(string Text, List<string> Events, string? ServedBy)> StreamTextAsync(Uri baseAddress, string body, HttpClient? client = null)
    {
        using var own = client is null ? new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) } : null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await (client ?? own!).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = (await SseEvents.ReadAllAsync(response, timeout.Token)).Select(e => e.Data).ToList();
        var text = new StringBuilder();
        foreach (var data in events.Where(e => e != "[DONE]"))
        {
            if (JsonNode.Parse(data)?["choices"] is JsonArray { Count: > 0 } choices)
            {
                text.Append((string?)choices[0]!["text"]);
            }
        }

        var servedBy = response.Headers.TryGetValues(PdHeaders.ProxyDecodeInstance, out var values) ? values.Single() : null;
        return (text.ToString(), events, servedBy);
    }

    private static string Completion(string prompt) =>
        new JsonObject { ["model"] = ProxyFixture.Model, ["prompt"] = prompt, ["max_tokens"] = 2 }.ToJsonString();

    private static string LongText(string sentence, int times) => new StringBuilder().Insert(0, sentence + " ", times).ToString();
}
