using System.Net;
using System.Text.Json.Nodes;

namespace PdApp.Tests.Simulator;

/// <summary>
/// Generation is a function of the seed and the text before each token, so a request that continues
/// another one's output (prompt + the first k tokens; chat with an assistant prefix and
/// continue_final_message) produces exactly the rest: what request migration relies on.
/// </summary>
public sealed class SimulatorContinuationTests : IAsyncLifetime
{
    private RunningSimulator _sim = null!;

    public async Task InitializeAsync() =>
        _sim = await RunningSimulator.StartAsync(["--time-to-first-token", "1", "--inter-token-latency", "1"]);

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    [Theory]
    [InlineData(7L)]
    [InlineData(null)]
    public async Task CompletionPromptPlusFirstTokens_GeneratesTheRemainingTokens(long? seed)
    {
        var full = await StreamedTokensAsync("/v1/completions", Completion("Rivers of Europe:", 20, seed));

        var prefix = string.Concat(full.Take(6));
        var rest = await StreamedTokensAsync("/v1/completions", Completion("Rivers of Europe:" + prefix, 14, seed));

        Assert.Equal(20, full.Count);
        Assert.Equal(full.Skip(6), rest);
    }

    [Fact]
    public async Task ChatAssistantPrefixWithContinueFinalMessage_GeneratesTheRemainingTokens()
    {
        var full = await StreamedTokensAsync("/v1/chat/completions", Chat(null, 16));

        var prefix = string.Concat(full.Take(5));
        var rest = await StreamedTokensAsync("/v1/chat/completions", Chat(prefix, 11));

        Assert.Equal(16, full.Count);
        Assert.Equal(full.Skip(5), rest);
    }

    [Fact]
    public async Task WithoutMaxTokens_ContinuationEndsWhereTheOriginalEnded()
    {
        var body = Completion("Open ended question", 0, 3);
        body.Remove("max_tokens");
        var full = await StreamedTokensAsync("/v1/completions", body);
        Assert.True(full.Count > 2, $"only {full.Count} tokens");

        var continuation = Completion("Open ended question" + string.Concat(full.Take(2)), 0, 3);
        continuation.Remove("max_tokens");
        Assert.Equal(full.Skip(2), await StreamedTokensAsync("/v1/completions", continuation));
    }

    [Fact]
    public async Task ContinueFinalMessageWithGenerationPrompt_Returns400()
    {
        var body = Chat("The Rhine", 4);
        body["add_generation_prompt"] = true;

        var (response, json) = await _sim.Client.PostJsonAsync("/v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("continue_final_message", (string?)json["error"]!["param"]);
    }

    private static JsonObject Completion(string prompt, int maxTokens, long? seed)
    {
        var body = SimulatorHttp.Completion(prompt, maxTokens, stream: true);
        if (seed is { } value)
        {
            body["seed"] = value;
        }

        return body;
    }

    private static JsonObject Chat(string? assistantPrefix, int maxTokens)
    {
        var body = SimulatorHttp.Chat("Name three rivers.", maxTokens, stream: true);
        body["seed"] = 11;
        if (assistantPrefix is not null)
        {
            ((JsonArray)body["messages"]!).Add(new JsonObject { ["role"] = "assistant", ["content"] = assistantPrefix });
            body["continue_final_message"] = true;
            body["add_generation_prompt"] = false;
        }

        return body;
    }

    private async Task<List<string>> StreamedTokensAsync(string path, JsonObject body)
    {
        using var response = await _sim.Client.SendAsync(SimulatorHttp.Post(path, body), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tokens = new List<string>();
        foreach (var (data, _) in await SimulatorHttp.ReadEventsAsync(response))
        {
            if (data == "[DONE]" || JsonNode.Parse(data) is not JsonObject chunk || chunk["choices"] is not JsonArray { Count: > 0 } choices)
            {
                continue;
            }

            var choice = choices[0]!;
            var text = (string?)choice["text"] ?? (string?)choice["delta"]?["content"];
            if (choice["delta"]?["role"] is null && !string.IsNullOrEmpty(text))
            {
                tokens.Add(text);
            }
        }

        return tokens;
    }
}
