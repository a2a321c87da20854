using System.Text;
using System.Text.Json;
using PdApp.Bench.Measurement;

namespace PdApp.Tests.Bench;

public sealed class SseTimingTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task EventsSplitAcrossReadsWithCrLfCommentsAndMultiLineData_AreReassembled()
    {
        var text = ": keep-alive\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: ignored\ndata:[DONE]\n\n";
        var chunks = text.Select(c => (TimeSpan.Zero, c.ToString()));
        using var reader = new SseEventReader(new ScriptedStream(chunks));

        Assert.True(await reader.ReadEventAsync(CancellationToken.None));
        Assert.Equal("{\"a\":\n1}", Encoding.UTF8.GetString(reader.Data));
        Assert.True(await reader.ReadEventAsync(CancellationToken.None));
        Assert.Equal("[DONE]", Encoding.UTF8.GetString(reader.Data));
        Assert.False(await reader.ReadEventAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EventLargerThanTheBuffer_IsReadWhole()
    {
        var payload = new string('x', 100_000);
        using var reader = new SseEventReader(new ScriptedStream([(TimeSpan.Zero, $"data: {payload}\n\n")]));

        Assert.True(await reader.ReadEventAsync(CancellationToken.None));
        Assert.Equal(payload.Length, reader.Data.Length);
    }

    [Fact]
    public async Task StreamedCompletion_TtftIsFirstTokenAndGapsAreInterTokenLatencies()
    {
        var time = new SteppingTimeProvider();
        var start = time.GetTimestamp();
        var stream = new ScriptedStream(
        [
            (30 * Ms, Token("a")),
            (10 * Ms, Token("b")),
            (12 * Ms, Token("c")),
            (1 * Ms, """data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}""" + "\n\n"),
            (0 * Ms, "data: [DONE]\n\n"),
        ], time);
        var gaps = new GapCollector();

        var timing = await StreamTimingReader.ReadAsync(stream, gaps, time, CancellationToken.None);

        Assert.True(timing.SawDone);
        Assert.Equal(30_000, StreamTimingReader.ToMicroseconds(timing.FirstOutputTimestamp - start, time));
        Assert.Equal([10_000L, 12_000L], gaps.Gaps);
        Assert.Equal(3, timing.OutputChunks);
        Assert.Equal(7, timing.PromptTokens);
        Assert.Equal(3, timing.CompletionTokens);
    }

    [Fact]
    public async Task RoleOnlyChatChunkBeforeTheFirstToken_DoesNotCountAsFirstToken()
    {
        var time = new SteppingTimeProvider();
        var start = time.GetTimestamp();
        var stream = new ScriptedStream(
        [
            (1 * Ms, """data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""" + "\n\n"),
            (40 * Ms, """data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}""" + "\n\n"),
            (5 * Ms, """data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""" + "\n\n"),
            (0 * Ms, "data: [DONE]\n\n"),
        ], time);

        var timing = await StreamTimingReader.ReadAsync(stream, null, time, CancellationToken.None);

        Assert.Equal(41_000, StreamTimingReader.ToMicroseconds(timing.FirstOutputTimestamp - start, time));
        Assert.Equal(1, timing.OutputChunks);
    }

    [Fact]
    public async Task InBandErrorEvent_IsReportedWithItsMessage()
    {
        var stream = new ScriptedStream(
        [
            (Ms, Token("a")),
            (Ms, """data: {"error":{"message":"engine died","type":"InternalServerError","code":500}}""" + "\n\n"),
            (Ms, "data: [DONE]\n\n"),
        ]);

        var timing = await StreamTimingReader.ReadAsync(stream, null, TimeProvider.System, CancellationToken.None);

        Assert.Equal("engine died", timing.ErrorMessage);
        Assert.False(timing.SawDone);
    }

    [Fact]
    public async Task StreamCutBeforeDone_IsNotComplete()
    {
        var stream = new ScriptedStream([(Ms, Token("a")), (Ms, Token("b"))]);

        var timing = await StreamTimingReader.ReadAsync(stream, null, TimeProvider.System, CancellationToken.None);

        Assert.False(timing.SawDone);
        Assert.Equal(2, timing.OutputChunks);
    }

    [Fact]
    public async Task MalformedChunk_ThrowsJsonException()
    {
        var stream = new ScriptedStream([(Ms, "data: {not json\n\n")]);

        await Assert.ThrowsAnyAsync<JsonException>(() => StreamTimingReader.ReadAsync(stream, null, TimeProvider.System, CancellationToken.None));
    }

    [Theory]
    [InlineData("""{"choices":[{"text":"x"}]}""", true)]
    [InlineData("""{"choices":[{"text":""}]}""", false)]
    [InlineData("""{"choices":[{"delta":{"reasoning_content":"think"}}]}""", true)]
    [InlineData("""{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}""", true)]
    [InlineData("""{"choices":[{"delta":{"tool_calls":[]}}]}""", false)]
    [InlineData("""{"choices":[]}""", false)]
    public void ChunkInspector_CountsOnlyChunksCarryingOutput(string json, bool hasOutput)
    {
        Assert.Equal(hasOutput, ChunkInspector.Inspect(Encoding.UTF8.GetBytes(json)).HasOutput);
    }

    [Fact]
    public void ChunkInspector_RecognisesTheFlatErrorFormOfOlderVllm()
    {
        var info = ChunkInspector.Inspect("""{"object":"error","message":"prompt too long","type":"BadRequestError","code":400}"""u8);

        Assert.True(info.IsError);
        Assert.Equal("prompt too long", info.ErrorMessage);
    }

    private static string Token(string text) => $$"""data: {"choices":[{"index":0,"text":"{{text}}"}]}""" + "\n\n";

    private sealed class GapCollector : IInterTokenObserver
    {
        public List<long> Gaps { get; } = [];

        public void OnInterTokenLatency(long microseconds) => Gaps.Add(microseconds);
    }
}
