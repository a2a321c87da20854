using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Migration;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>A continuation's events become part of the client's stream: its id, no second role, usage of the whole request.</summary>
public sealed class ContinuationEventRewriterTests
{
    [Fact]
    public async Task ContentEvent_TakesTheStreamsIdentity_AndKeepsEverythingElseExactly()
    {
        var progress = await ProgressAsync("""{"id":"chatcmpl-original","created":100,"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""");

        var rewritten = Rewrite(
            """{"id":"chatcmpl-new","object":"chat.completion.chunk","created":200,"model":"m","choices":[{"index":0,"delta":{"content":"caf\u00e9 \"quoted\"\n"},"logprobs":null,"finish_reason":null}],"x":{"nested":[1,2.5,true,null]}}""",
            progress, tokensBefore: 3);

        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"id":"chatcmpl-original","object":"chat.completion.chunk","created":100,"model":"m","choices":[{"index":0,"delta":{"content":"café \"quoted\"\n"},"logprobs":null,"finish_reason":null}],"x":{"nested":[1,2.5,true,null]}}"""),
            rewritten));
    }

    [Fact]
    public async Task RoleOnlyEvent_IsDropped_WhenTheClientAlreadyHadTheRole()
    {
        var progress = await ProgressAsync("""{"id":"c","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""");
        const string json = """{"id":"d","created":2,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""";

        Assert.Null(new ContinuationEventRewriter(1, 5).Rewrite(Encoding.UTF8.GetBytes(json), Facts(json), progress));
    }

    [Fact]
    public async Task RoleWithContent_LosesOnlyTheRole()
    {
        var progress = await ProgressAsync("""{"id":"c","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""");

        var rewritten = Rewrite("""{"id":"d","created":2,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null},{"index":1,"delta":{"role":"assistant"}}]}""", progress, 1);

        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"id":"c","created":1,"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null},{"index":1,"delta":{"role":"assistant"}}]}"""),
            rewritten));
    }

    [Theory]
    [InlineData(12, 12)]
    [InlineData(null, 17)]
    public async Task Usage_CountsTheWholeRequest(int? originalPromptTokens, int expectedPrompt)
    {
        var progress = await ProgressAsync("""{"id":"cmpl-1","created":1,"choices":[{"text":"a"}]}""");

        // The continuation's prompt is the original's plus the 5 tokens relayed before the move.
        var rewritten = new ContinuationEventRewriter(5, originalPromptTokens).Rewrite(
            """{"id":"cmpl-2","created":2,"choices":[],"usage":{"prompt_tokens":22,"total_tokens":30,"completion_tokens":8,"prompt_tokens_details":{"cached_tokens":16}}}"""u8,
            Facts("""{"choices":[],"usage":{}}"""), progress);

        var usage = Parse(rewritten)!["usage"]!;
        Assert.Equal(expectedPrompt, (int)usage["prompt_tokens"]!);
        Assert.Equal(13, (int)usage["completion_tokens"]!);
        Assert.Equal(expectedPrompt + 13, (int)usage["total_tokens"]!);
        Assert.Equal(16, (int)usage["prompt_tokens_details"]!["cached_tokens"]!);
        Assert.Equal("cmpl-1", (string)Parse(rewritten)!["id"]!);
    }

    private static JsonNode? Rewrite(string json, StreamProgress progress, int tokensBefore) =>
        Parse(new ContinuationEventRewriter(tokensBefore, 10).Rewrite(Encoding.UTF8.GetBytes(json), Facts(json), progress));

    private static ChunkFacts Facts(string json) => ChunkFacts.Read(Encoding.UTF8.GetBytes(json), new ArrayBufferWriter<byte>(), withIdentity: false)!.Value;

    private static JsonNode? Parse(byte[]? sse)
    {
        Assert.NotNull(sse);
        var text = Encoding.UTF8.GetString(sse);
        Assert.StartsWith("data: ", text, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        return JsonNode.Parse(text["data: ".Length..].TrimEnd('\n'));
    }

    // The client's stream so far: one event relayed by the first decode.
    private static async Task<StreamProgress> ProgressAsync(string firstEvent)
    {
        var progress = new StreamProgress();
        await using var relay = new SseEventRelayStream(new MemoryStream(Encoding.UTF8.GetBytes($"data: {firstEvent}\n\n")), progress);
        await relay.CopyToAsync(Stream.Null);
        return progress;
    }
}
