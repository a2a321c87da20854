using System.ClientModel;
using System.Net;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>What clients see through the proxy: the seed's curl, raw HTTP streaming, the OpenAI .NET client.</summary>
public sealed class ProxyCompletionTests
{
    private static async Task<ProxyFixture> StartAsync(params string[] simulatorArgs)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", simulatorArgs);
        var decode = await SimulatorInstance.StartAsync("decode-0", simulatorArgs);
        return await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);
    }

    [Theory]
    [InlineData(Bodies.SeedCurl)]
    [InlineData(Bodies.SeedChineseCurl)]
    public async Task SeedCurlBody_ReturnsDecodeCompletionWithDecodeUsage(string seedBody)
    {
        await using var proxy = await StartAsync("--inter-token-latency", "0.2");

        using var response = await proxy.PostAsync("/v1/completions", seedBody);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("prefill-0", response.Headers.GetValues(PdHeaders.ProxyPrefillInstance).Single());
        Assert.Equal("decode-0", response.Headers.GetValues(PdHeaders.ProxyDecodeInstance).Single());
        Assert.Equal("decode-0", response.Headers.GetValues(PdHeaders.SimulatorInstance).Single());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("text_completion", json.RootElement.GetProperty("object").GetString());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));

        // P was asked for one token; the usage the client sees is D's, within the request's max_tokens.
        var completionTokens = json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completionTokens, 2, 500);
    }

    [Fact]
    public async Task StreamingCompletion_RelaysEachChunkBeforeTheStreamEnds()
    {
        await using var proxy = await StartAsync("--inter-token-latency", "25");

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 24, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SseFormat.ContentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1].Data);
        Assert.True(events.Count > 10, $"expected one event per token, got {events.Count}");

        // Unbuffered: the first token arrives long before the last (24 tokens x 25 ms apart).
        Assert.True(events[^1].At - events[0].At > TimeSpan.FromMilliseconds(300), $"first {events[0].At}, last {events[^1].At}");
    }

    [Fact]
    public async Task OpenAiChatClient_NonStreaming_GetsDecodeAnswer()
    {
        await using var proxy = await StartAsync();
        var client = new ChatClient(ProxyFixture.Model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(proxy.BaseAddress, "/v1") });

        ChatCompletion completion = await client.CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Name a river.")],
            new ChatCompletionOptions { MaxOutputTokenCount = 12 });

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.True(completion.Usage.OutputTokenCount > 1);
    }

    [Fact]
    public async Task OpenAiChatClient_Streaming_ReceivesUpdatesAndDecodeUsage()
    {
        await using var proxy = await StartAsync();
        var client = new ChatClient(ProxyFixture.Model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(proxy.BaseAddress, "/v1") });

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in client.CompleteChatStreamingAsync(
            [new UserChatMessage("Tell me about the sea.")], new ChatCompletionOptions { MaxOutputTokenCount = 16 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.True(updates > 5, $"expected one update per token, got {updates}");
        Assert.False(string.IsNullOrWhiteSpace(text.ToString()));
        Assert.NotNull(usage);
        Assert.Equal(16, usage.OutputTokenCount);
    }

    [Fact]
    public async Task RawCompletions_StreamingAndNot_MatchOpenAiShapes()
    {
        await using var proxy = await StartAsync();

        using var plain = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 5));
        using var streamed = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 5, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(streamed);

        using var json = JsonDocument.Parse(await plain.Content.ReadAsStringAsync());
        Assert.Equal(5, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.All(events[..^1], e => Assert.Equal("text_completion", JsonDocument.Parse(e.Data).RootElement.GetProperty("object").GetString()));
        Assert.Equal("[DONE]", events[^1].Data);
    }

    [Fact]
    public async Task ClientRequestId_IsEchoedButEnginesGetAProxyMadeId()
    {
        await using var proxy = await StartAsync();

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(), r => r.Headers.Add(PdHeaders.RequestId, "client-req-42"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("client-req-42", response.Headers.GetValues(PdHeaders.RequestId).Single());

        // The simulator, like vLLM, names the completion after the X-Request-Id it received: two
        // clients reusing an id must not collide inside the engine.
        Assert.Matches("^cmpl-[0-9a-f]{32}$", json.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task MissingRequestId_IsGeneratedAndReturned()
    {
        await using var proxy = await StartAsync();

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        var id = response.Headers.GetValues(PdHeaders.RequestId).Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
    }

    [Fact]
    public async Task Models_ListsWhatTheDecodeInstanceServes()
    {
        await using var proxy = await StartAsync();

        using var json = JsonDocument.Parse(await proxy.Client.GetStringAsync("/v1/models"));

        Assert.Equal("list", json.RootElement.GetProperty("object").GetString());
        Assert.Equal(ProxyFixture.Model, json.RootElement.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Health_IsReadyWithPrefillAndDecode()
    {
        await using var proxy = await StartAsync();

        using var health = await proxy.Client.GetAsync("/health");
        using var alive = await proxy.Client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task ChunkedRequestBody_IsServedLikeAContentLengthOne()
    {
        await using var proxy = await StartAsync();

        using var response = await proxy.PostAsync("/v1/chat/completions", Bodies.Chat(maxTokens: 4), r => r.Headers.TransferEncodingChunked = true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Models_WithoutAnAnsweringDecode_ListsTheConfiguredModel()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Dead("decode-dead")], [$"{PdProxySettings.Model}=dp7b"]);

        using var json = JsonDocument.Parse(await proxy.Client.GetStringAsync("/v1/models"));

        Assert.Equal("dp7b", json.RootElement.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal("model", json.RootElement.GetProperty("data")[0].GetProperty("object").GetString());
    }

    [Fact]
    public async Task RepeatedConversation_SticksToOnePrefillWhileOthersSpread()
    {
        var prefill0 = await SimulatorInstance.StartAsync("prefill-0");
        var prefill1 = await SimulatorInstance.StartAsync("prefill-1");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill0), Upstream.Of(prefill1)], [Upstream.Of(decode)], ["Pd:Proxy:Balancing:Prefill=PrefixAffinity"]);

        async Task<string> PrefillFor(string user)
        {
            using var response = await proxy.PostAsync(
                "/v1/chat/completions",
                $$"""{"model": "{{ProxyFixture.Model}}", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "{{user}}"}], "max_tokens": 2}""");
            return response.Headers.GetValues(PdHeaders.ProxyPrefillInstance).Single();
        }

        var repeated = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            repeated.Add(await PrefillFor("Name three rivers in Europe."));
        }

        var distinct = new HashSet<string>();
        for (var i = 0; i < 12; i++)
        {
            distinct.Add(await PrefillFor($"Question number {i}: what is {i} times {i + 7}?"));
        }

        // The whole rendered conversation is the affinity key: a repeated conversation reuses
        // one P's prefix cache, different conversations spread over both.
        Assert.Single(repeated.Distinct());
        Assert.Equal(2, distinct.Count);
    }

    [Fact]
    public async Task Metrics_ExposesTheProxyMeterForScraping()
    {
        await using var proxy = await StartAsync();
        using var completion = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));
        await proxy.Metrics.WaitForAsync("pdapp.proxy.requests", 1);

        var text = await proxy.Client.GetStringAsync("/metrics");

        Assert.Contains("pdapp_proxy_requests", text);
        Assert.Contains("pdapp_proxy_kv_transfers_expected", text);
    }
}
