using System.Buffers;
using System.Text;
using System.Text.Json;
using PdApp.Proxy.Observability.Streaming;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Migration;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>
/// The decode relay keeps what the client received (text, tokens, identity) from each event without
/// building a JSON document, relays every byte unchanged, and holds back an engine-death error.
/// </summary>
public sealed class SseEventRelayStreamTests
{
    [Theory]
    [InlineData("""{"id":"cmpl-1","object":"text_completion","created":7,"model":"m","choices":[{"index":0,"text":" Hello","logprobs":null,"finish_reason":null}],"usage":null}""", " Hello", false, false, true, false)]
    [InlineData("""{"id":"c","created":7,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""", "", true, false, true, false)]
    [InlineData("""{"id":"c","created":7,"choices":[{"index":0,"delta":{"content":"a\nb \"q\" \u00e9\ud83d\ude00"},"logprobs":{"content":[{"token":"x","text":"not this"}]},"finish_reason":null}]}""", "a\nb \"q\" \u00e9\U0001F600", false, false, true, false)]
    [InlineData("""{"choices":[{"logprobs":{"text":"not this"},"index":0,"text":"","finish_reason":"length","stop_reason":null}]}""", "", false, true, true, false)]
    [InlineData("""{"choices":[{"index":0,"text":"first"},{"index":1,"text":"second"}]}""", "first", false, false, true, false)]
    [InlineData("""{"id":"c","created":7,"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""", "", false, false, false, true)]
    [InlineData("""{"id":"c","created":7,"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"content":"no"}}]},"finish_reason":"tool_calls"}]}""", "", false, true, true, false)]
    public void ChunkFacts_ReadsWhatAMigrationNeeds(string json, string text, bool isRole, bool finished, bool hasChoice, bool hasUsage)
    {
        var buffer = new ArrayBufferWriter<byte>();

        var facts = ChunkFacts.Read(Encoding.UTF8.GetBytes(json), buffer)!.Value;

        Assert.Equal(text, Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(text.Length > 0, facts.HasText);
        Assert.Equal(isRole, facts.IsRole);
        Assert.Equal(finished, facts.Finished);
        Assert.Equal(hasChoice, facts.HasChoice);
        Assert.Equal(hasUsage, facts.HasUsage);
        Assert.Equal(hasUsage ? 2 : (int?)null, facts.FinalUsageTokens);
        Assert.False(facts.IsError);
    }

    [Fact]
    public void ChunkFacts_ReadsIdentityOnlyWhenAsked()
    {
        var json = """{"id":"cmpl-9","created":1700000000,"choices":[{"text":"x"}]}"""u8.ToArray();

        var first = ChunkFacts.Read(json, new ArrayBufferWriter<byte>())!.Value;
        var later = ChunkFacts.Read(json, new ArrayBufferWriter<byte>(), withIdentity: false)!.Value;

        Assert.Equal(("cmpl-9", (long?)1700000000), (first.Id, first.Created));
        Assert.Equal((null, (long?)null), (later.Id, later.Created));
    }

    [Theory]
    [InlineData("""[1,2]""")]
    [InlineData("""42""")]
    public void ChunkFacts_NotAnObject_IsNull(string json) =>
        Assert.Null(ChunkFacts.Read(Encoding.UTF8.GetBytes(json), new ArrayBufferWriter<byte>()));

    [Fact]
    public void ChunkFacts_InvalidJson_Throws() =>
        Assert.ThrowsAny<JsonException>(() => ChunkFacts.Read("""{"choices":[{"text":"x"""u8, new ArrayBufferWriter<byte>()));

    [Fact]
    public void ChunkFacts_Error_IsFlagged() =>
        Assert.True(ChunkFacts.Read("""{"error":{"message":"boom","code":500}}"""u8, new ArrayBufferWriter<byte>())!.Value.IsError);

    [Theory]
    [InlineData(64)]
    [InlineData(65536)]
    public async Task Relay_PassesEveryByte_AndRecordsTheTextAcrossSplitReads(int readSize)
    {
        var events = string.Concat(
            Event("""{"id":"chatcmpl-1","created":5,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"""),
            Event("""{"id":"chatcmpl-1","created":5,"choices":[{"index":0,"delta":{"content":"Bonjour"},"finish_reason":null}]}"""),
            ": a comment\n\n",
            Event("""{"id":"chatcmpl-1","created":5,"choices":[{"index":0,"delta":{"content":" \u00e0 tous"},"finish_reason":null}]}"""),
            Event("""{"id":"chatcmpl-1","created":5,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"""),
            Event("""{"id":"chatcmpl-1","created":5,"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}}"""),
            "data: [DONE]\n\n");
        var bytes = Encoding.UTF8.GetBytes(events);
        var progress = new StreamProgress();

        // D's bytes arrive 7 at a time, so events and UTF-8 sequences are cut mid-way.
        await using var relay = new SseEventRelayStream(new TrickleStream(bytes, 7), progress);
        var relayed = await ReadAllAsync(relay, readSize);

        Assert.Equal(bytes, relayed);
        Assert.Equal("Bonjour à tous", progress.Text);
        Assert.Equal(2, progress.Tokens);
        Assert.True(progress.RoleSent);
        Assert.True(progress.Finished);
        Assert.True(progress.Done);
        Assert.Equal(("chatcmpl-1", (long?)5), (progress.Id, progress.Created));
        Assert.Null(progress.FailureReason);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(65536)]
    public async Task Relay_EngineDeathError_IsHeldBack(int readSize)
    {
        var events = Event("""{"id":"cmpl-1","created":5,"choices":[{"text":"one"}]}""")
            + Event("""{"error":{"object":"error","message":"EngineCore encountered an issue. See stack trace","type":"BadRequestError","code":400}}""")
            + Event("""{"id":"cmpl-1","created":5,"choices":[{"text":"never"}]}""");
        var progress = new StreamProgress();

        await using var relay = new SseEventRelayStream(new MemoryStream(Encoding.UTF8.GetBytes(events)), progress);
        var relayed = Encoding.UTF8.GetString(await ReadAllAsync(relay, readSize));

        Assert.Equal(Event("""{"id":"cmpl-1","created":5,"choices":[{"text":"one"}]}"""), relayed);
        Assert.Equal(MigrationReasons.EngineError, progress.FailureReason);
        Assert.Equal(400, progress.FailureStatus);
        Assert.Equal("one", progress.Text);
    }

    [Fact]
    public async Task Relay_ClientError_IsRelayed()
    {
        var events = Event("""{"error":{"message":"bad","code":400}}""");
        var progress = new StreamProgress();

        await using var relay = new SseEventRelayStream(new MemoryStream(Encoding.UTF8.GetBytes(events)), progress);

        Assert.Equal(events, Encoding.UTF8.GetString(await ReadAllAsync(relay)));
        Assert.Null(progress.FailureReason);
    }

    [Fact]
    public async Task Relay_TellsTheObserverWhatAScanOfTheBytesWouldFind_WithoutShowingItTheBytes()
    {
        var events = string.Concat(
            Event("""{"id":"c","created":5,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"""),
            Event("""{"id":"c","created":5,"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"""),
            ": a comment\n\n",
            "event: message\ndata: {\"choices\":[{\"delta\":{\"content\":\"!\"}}]}\n\n",
            "data: not json\n\n",
            Event("""{"error":{"message":"bad","code":400}}"""),
            Event("""{"id":"c","created":5,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"""),
            Event("""{"id":"c","created":5,"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}"""),
            "data: [DONE]\n\n");
        var bytes = Encoding.UTF8.GetBytes(events);
        var scanned = new List<SseDataKind>();
        var scanner = new SseChunkScanner();
        scanner.Scan(bytes, scanned.Add);
        var observer = new EventObserver();

        await using var relay = new SseEventRelayStream(new TrickleStream(bytes, 7), new StreamProgress(), observer: observer);
        await ReadAllAsync(relay);

        Assert.Equal(scanned, observer.Kinds);
        Assert.Equal([SseDataKind.Chunk, SseDataKind.Chunk, SseDataKind.Chunk, SseDataKind.Chunk, SseDataKind.Error, SseDataKind.Chunk, SseDataKind.Usage, SseDataKind.Done], observer.Kinds);
        Assert.Equal(3, observer.CompletionTokens);

        // Only the events the relay does not read itself (comment, other fields, not JSON) are shown as bytes.
        Assert.Equal(3, observer.ByteShows);
    }

    private static string Event(string json) => $"data: {json}\n\n";

    // The observer's view of a relayed stream: classified events, and a scan of any bytes shown
    // (the other notifications are recorded by the base class).
    private sealed class EventObserver : RecordingObserver, IRequestObserver
    {
        private readonly SseChunkScanner _scanner = new();

        public List<SseDataKind> Kinds { get; } = [];

        public int? CompletionTokens { get; private set; }

        public int ByteShows { get; private set; }

        public void DecodeEventRelayed(SseDataKind kind, int? completionTokens)
        {
            Kinds.Add(kind);
            CompletionTokens = completionTokens ?? CompletionTokens;
        }

        public void DecodeBytesRelayed(ReadOnlySpan<byte> bytes)
        {
            ByteShows++;
            _scanner.Scan(bytes, Kinds.Add);
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(65536)]
    public async Task Relay_LastEventWithoutTerminator_IsRelayed(int readSize)
    {
        var events = Event("""{"choices":[{"text":"a"}]}""") + """data: {"choices":[{"text":"b"}]}""";
        var progress = new StreamProgress();

        await using var relay = new SseEventRelayStream(new TrickleStream(Encoding.UTF8.GetBytes(events), 5), progress);

        Assert.Equal(events, Encoding.UTF8.GetString(await ReadAllAsync(relay, readSize)));
        Assert.Equal(("ab", 2), (progress.Text, progress.Tokens));
    }

    [Fact]
    public async Task Relay_ReadLikeYarp_WaitsOnDsStreamWithZeroByteReads_AndRelaysTheSameBytes()
    {
        var events = Event("""{"id":"cmpl-1","created":5,"choices":[{"text":"one"}]}""")
            + Event("""{"id":"cmpl-1","created":5,"choices":[{"text":" two"}]}""")
            + "data: [DONE]\n\n";
        var bytes = Encoding.UTF8.GetBytes(events);
        var progress = new StreamProgress();
        var inner = new TrickleStream(bytes, 9);

        // YARP's StreamCopier: a zero-byte read (wait for data), then a read into its 64 KiB buffer.
        await using var relay = new SseEventRelayStream(inner, progress);
        using var output = new MemoryStream();
        var buffer = new byte[65536];
        while (true)
        {
            Assert.Equal(0, await relay.ReadAsync(Memory<byte>.Empty));
            var read = await relay.ReadAsync(buffer);
            if (read == 0)
            {
                break;
            }

            output.Write(buffer, 0, read);
        }

        Assert.Equal(bytes, output.ToArray());
        Assert.Equal(("one two", 2, true), (progress.Text, progress.Tokens, progress.Done));
        Assert.True(inner.ZeroByteReads > 0, "a zero-byte read should reach D's stream");
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream, int readSize = 64)
    {
        using var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }

    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public int ZeroByteReads { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ZeroByteReads += buffer.IsEmpty ? 1 : 0;
            return base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
        }
    }
}
