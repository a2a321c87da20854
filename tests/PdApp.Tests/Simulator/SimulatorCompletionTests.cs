using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using PdApp.Protocol;

namespace PdApp.Tests.Simulator;

public sealed class SimulatorCompletionTests : IAsyncLifetime
{
    private RunningSimulator _sim = null!;

    public async Task InitializeAsync() =>
        _sim = await RunningSimulator.StartAsync(["--time-to-first-token", "5", "--inter-token-latency", "2", "--max-model-len", "256", "--instance-name", "sim-a"]);

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    [Fact]
    public async Task Completion_NonStreaming_ReturnsVllmShapeAndHeaders()
    {
        var (response, body) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hello world", maxTokens: 7), requestId: "req-123");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.ContentType()?.MediaType);
        Assert.Equal("sim-a", response.Header(PdHeaders.SimulatorInstance));
        Assert.Equal("req-123", response.Header(PdHeaders.RequestId));
        Assert.Equal(KvTransferOutcomes.None, response.Header(PdHeaders.SimulatorKvTransfer));
        Assert.Equal("cmpl-req-123", (string?)body["id"]);
        Assert.Equal("text_completion", (string?)body["object"]);
        Assert.Equal("dp7b", (string?)body["model"]);
        var choice = body["choices"]![0]!;
        Assert.Equal("length", (string?)choice["finish_reason"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)choice["text"]));
        Assert.Equal(2, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(7, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal(9, (int)body["usage"]!["total_tokens"]!);
        Assert.Equal(7, ((string)choice["text"]!).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Chat_MaxCompletionTokens_WinsOverMaxTokens()
    {
        var request = SimulatorHttp.Chat("Tell me a story", maxTokens: 9);
        request["max_completion_tokens"] = 4;

        var (response, body) = await _sim.Client.PostJsonAsync("/v1/chat/completions", request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chat.completion", (string?)body["object"]);
        Assert.StartsWith("chatcmpl-", (string?)body["id"]);
        Assert.Equal("assistant", (string?)body["choices"]![0]!["message"]!["role"]);
        Assert.Equal(4, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal("length", (string?)body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task Chat_WithOpenAiClient_StreamsRoleThenContentAndUsage()
    {
        var client = new ChatClient("dp7b", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_sim.BaseAddress, "v1") });
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 6 };
        var updates = new List<StreamingChatCompletionUpdate>();

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Hello there")], options))
        {
            updates.Add(update);
        }

        Assert.Equal(ChatMessageRole.Assistant, updates[0].Role);
        var text = string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text));
        Assert.Equal(6, text.Split(' ').Length);
        Assert.Contains(updates, u => u.FinishReason == ChatFinishReason.Length);
        var usage = updates.Last(u => u.Usage is not null).Usage;
        Assert.Equal(6, usage.OutputTokenCount);
        Assert.True(usage.InputTokenCount > 0);
    }

    [Fact]
    public async Task Chat_WithOpenAiClient_NonStreamingMatchesStreamingText()
    {
        var client = new ChatClient("dp7b", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_sim.BaseAddress, "v1") });
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 5 };

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Same question")], options);
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Same question")], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal(completion.Content[0].Text, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
    }

    [Fact]
    public async Task Streaming_ChunksArriveOverTime_DoneLast()
    {
        await using var slow = await RunningSimulator.StartAsync(["--time-to-first-token", "10", "--inter-token-latency", "40"]);
        using var request = SimulatorHttp.Post("/v1/completions", SimulatorHttp.Completion("Count slowly", maxTokens: 6, stream: true));

        var sent = System.Diagnostics.Stopwatch.StartNew();
        using var response = await slow.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var headersAt = sent.Elapsed;
        var events = await SimulatorHttp.ReadEventsAsync(response);

        Assert.Equal(PdApp.Protocol.SseFormat.ContentType, response.ContentType()?.MediaType);
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.Take(events.Count - 1).Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal(6, chunks.Count);
        Assert.All(chunks, c => Assert.Equal("text_completion", (string?)c["object"]));
        Assert.Equal("length", (string?)chunks[^1]["choices"]![0]!["finish_reason"]);

        // The engine keeps a per-token schedule (TTFT, then a 40 ms step per token) that may catch up
        // by at most one step after a stall, so the last chunk comes >= 10 + 4 * 40 ms after the
        // request; and the first arrives on its own, before it: the stream is not buffered.
        Assert.True(headersAt + events[^2].At >= TimeSpan.FromMilliseconds(160), $"last chunk after {headersAt + events[^2].At}");
        Assert.True(events[0].At < events[^2].At, $"first {events[0].At}, last {events[^2].At}");
    }

    [Fact]
    public async Task Streaming_IncludeUsage_EndsWithUsageChunkWithEmptyChoices()
    {
        var body = SimulatorHttp.Chat("Usage please", maxTokens: 3, stream: true);
        body["stream_options"] = new JsonObject { ["include_usage"] = true };
        using var response = await _sim.Client.SendAsync(SimulatorHttp.Post("/v1/chat/completions", body), HttpCompletionOption.ResponseHeadersRead);

        var events = await SimulatorHttp.ReadEventsAsync(response);

        Assert.Equal("[DONE]", events[^1].Data);
        var first = JsonNode.Parse(events[0].Data)!;
        Assert.Equal("chat.completion.chunk", (string?)first["object"]);
        Assert.Equal("assistant", (string?)first["choices"]![0]!["delta"]!["role"]);
        var usageChunk = JsonNode.Parse(events[^2].Data)!;
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(3, (int)usageChunk["usage"]!["completion_tokens"]!);
        Assert.Equal((int)usageChunk["usage"]!["prompt_tokens"]! + 3, (int)usageChunk["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task Stop_StringInOutput_CutsTextAndFinishesWithStop()
    {
        var (_, reference) = await _sim.Client.PostJsonAsync("/v1/completions", WithSeed(SimulatorHttp.Completion("Stop test", maxTokens: 12), 7));
        var full = (string)reference["choices"]![0]!["text"]!;
        var stop = " " + full.Split(' ')[4];
        var expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        var request = WithSeed(SimulatorHttp.Completion("Stop test", maxTokens: 12), 7);
        request["stop"] = new JsonArray("never-generated", stop);
        var (_, body) = await _sim.Client.PostJsonAsync("/v1/completions", request);

        var choice = body["choices"]![0]!;
        Assert.Equal("stop", (string?)choice["finish_reason"]);
        Assert.Equal(stop, (string?)choice["stop_reason"]);
        Assert.Equal(expected, (string?)choice["text"]);
        Assert.True((int)body["usage"]!["completion_tokens"]! < 12);
    }

    [Fact]
    public async Task Seed_SameSeedSameText_OtherSeedOtherText()
    {
        async Task<string> TextAsync(long seed)
        {
            var (_, body) = await _sim.Client.PostJsonAsync("/v1/completions", WithSeed(SimulatorHttp.Completion("Seeded", maxTokens: 16), seed));
            return (string)body["choices"]![0]!["text"]!;
        }

        var first = await TextAsync(1);
        Assert.Equal(first, await TextAsync(1));
        Assert.NotEqual(first, await TextAsync(2));
    }

    [Fact]
    public async Task NoSeed_SamePromptSameText_OtherPromptOtherText()
    {
        var (_, a) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Prompt one", maxTokens: 16));
        var (_, b) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Prompt one", maxTokens: 16));
        var (_, c) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Prompt two", maxTokens: 16));

        Assert.Equal((string?)a["choices"]![0]!["text"], (string?)b["choices"]![0]!["text"]);
        Assert.NotEqual((string?)a["choices"]![0]!["text"], (string?)c["choices"]![0]!["text"]);
    }

    [Fact]
    public async Task NoMaxTokens_EndsWithStopBeforeContextEnd()
    {
        var body = SimulatorHttp.Completion("Open ended", maxTokens: null);
        var (response, json) = await _sim.Client.PostJsonAsync("/v1/completions", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("stop", (string?)json["choices"]![0]!["finish_reason"]);
        Assert.InRange((int)json["usage"]!["completion_tokens"]!, 1, 64);
    }

    [Fact]
    public async Task Prompt_AsTokenIdsAndListOfOneString_AreAccepted()
    {
        var ids = SimulatorHttp.Completion("x");
        ids["prompt"] = new JsonArray(15496, 995, 11, 428);
        var list = SimulatorHttp.Completion("x");
        list["prompt"] = new JsonArray("Hello world");

        var (idsResponse, idsBody) = await _sim.Client.PostJsonAsync("/v1/completions", ids);
        var (listResponse, listBody) = await _sim.Client.PostJsonAsync("/v1/completions", list);

        Assert.Equal(HttpStatusCode.OK, idsResponse.StatusCode);
        Assert.Equal(4, (int)idsBody["usage"]!["prompt_tokens"]!);
        Assert.Equal(HttpStatusCode.OK, listResponse.StatusCode);
        Assert.Equal(2, (int)listBody["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task Chat_ContentParts_CountLikeTheSameString()
    {
        var parts = SimulatorHttp.Chat("ignored");
        parts["messages"]![0]!["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hello world" });

        var (_, fromParts) = await _sim.Client.PostJsonAsync("/v1/chat/completions", parts);
        var (_, fromString) = await _sim.Client.PostJsonAsync("/v1/chat/completions", SimulatorHttp.Chat("Hello world"));

        Assert.Equal((int)fromString["usage"]!["prompt_tokens"]!, (int)fromParts["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task Models_ListsServedNameWithRootAndMaxModelLen()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_sim.BaseAddress, "v1") });
        OpenAIModelCollection models = await client.GetModelsAsync();
        Assert.Equal("dp7b", Assert.Single(models).Id);

        var raw = JsonNode.Parse(await _sim.Client.GetStringAsync("/v1/models"))!;
        Assert.Equal("list", (string?)raw["object"]);
        var model = raw["data"]![0]!;
        Assert.Equal("model", (string?)model["object"]);
        Assert.Equal("vllm", (string?)model["owned_by"]);
        Assert.Equal("/data/dp7b/", (string?)model["root"]);
        Assert.Equal(256, (int)model["max_model_len"]!);
    }

    [Fact]
    public async Task Version_And_Health_AnswerLikeVllm()
    {
        var version = JsonNode.Parse(await _sim.Client.GetStringAsync("/version"))!;
        using var health = await _sim.Client.GetAsync("/health");

        Assert.False(string.IsNullOrEmpty((string?)version["version"]));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(string.Empty, await health.Content.ReadAsStringAsync());
        Assert.Equal("sim-a", health.Header(PdHeaders.SimulatorInstance));
    }

    [Fact]
    public async Task Tokenize_CountsTheSameTokensAsCompletionUsage()
    {
        var chat = SimulatorHttp.Chat("How many tokens is this?");
        var (_, completion) = await _sim.Client.PostJsonAsync("/v1/chat/completions", chat);
        var (response, tokenized) = await _sim.Client.PostJsonAsync("/tokenize", new JsonObject { ["model"] = "dp7b", ["messages"] = chat["messages"]!.DeepClone() });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((int)completion["usage"]!["prompt_tokens"]!, (int)tokenized["count"]!);
        Assert.Equal((int)tokenized["count"]!, tokenized["tokens"]!.AsArray().Count);
        Assert.Equal(256, (int)tokenized["max_model_len"]!);
    }

    [Fact]
    public async Task Completion_WithoutRequestId_GetsAGeneratedOneEchoedInIdAndHeader()
    {
        var (response, body) = await _sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("No id"));

        var requestId = response.Header(PdHeaders.RequestId);
        Assert.Matches("^[0-9a-f]{32}$", requestId);
        Assert.Equal("cmpl-" + requestId, (string?)body["id"]);
    }

    private static JsonObject WithSeed(JsonObject body, long seed)
    {
        body["seed"] = seed;
        return body;
    }
}
