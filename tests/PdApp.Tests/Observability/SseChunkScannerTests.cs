using System.Text;
using PdApp.Proxy.Observability.Streaming;
using PdApp.Proxy.Pipeline.Forwarding;

namespace PdApp.Tests.Observability;

public sealed class SseChunkScannerTests
{
    private const string VllmStream =
        "data: {\"id\":\"cmpl-1\",\"choices\":[{\"text\":\" a\"}]}\n\n" +
        "data: {\"id\":\"cmpl-1\",\"choices\":[{\"text\":\" city\"}]}\n\n" +
        ": keep-alive comment\n\n" +
        "event: message\r\ndata:{\"id\":\"cmpl-1\",\"choices\":[{\"text\":\" in\"}]}\r\n\r\n" +
        "data: {\"error\": {\"message\": \"boom\", \"type\": \"ServiceUnavailableError\", \"code\": 503}}\n\n" +
        "data: [DONE]\n\n";

    private static List<SseDataKind> Scan(IEnumerable<byte[]> pieces)
    {
        var scanner = new SseChunkScanner();
        var kinds = new List<SseDataKind>();
        foreach (var piece in pieces)
        {
            scanner.Scan(piece, kinds.Add);
        }

        return kinds;
    }

    [Fact]
    public void WholeStream_ChunksErrorAndDoneClassified()
    {
        var kinds = Scan([Encoding.UTF8.GetBytes(VllmStream)]);

        Assert.Equal([SseDataKind.Chunk, SseDataKind.Chunk, SseDataKind.Chunk, SseDataKind.Error, SseDataKind.Done], kinds);
    }

    [Fact]
    public void StreamSplitAtEveryByte_GivesTheSameEvents()
    {
        var bytes = Encoding.UTF8.GetBytes(VllmStream);
        var expected = Scan([bytes]);

        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(expected, Scan([bytes[..split], bytes[split..]]));
        }

        Assert.Equal(expected, Scan(bytes.Select(b => new[] { b })));
    }

    [Fact]
    public void ShortPayloadEndedByNewline_IsStillCounted()
    {
        Assert.Equal([SseDataKind.Chunk, SseDataKind.Done], Scan([Encoding.UTF8.GetBytes("data: {}\n\ndata:[DONE]\n\n")]));
    }

    [Fact]
    public void FieldNamesThatOnlyStartLikeData_AreNotEvents()
    {
        Assert.Empty(Scan([Encoding.UTF8.GetBytes("dat: x\nid: data: y\ndatum: z\n\n")]));
    }

    [Fact]
    public void FinalUsageChunk_IsUsageNotAChunk_AndItsCompletionTokensAreRead()
    {
        const string Stream =
            "data: {\"id\":\"cmpl-1\",\"choices\":[{\"text\":\" a\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n" +
            "data: {\"id\":\"cmpl-1\",\"choices\":[{\"text\":\" b\"}]}\n\n" +
            "data: {\"id\":\"cmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":40,\"total_tokens\":45}}\n\n" +
            "data: [DONE]\n\n";
        var bytes = Encoding.UTF8.GetBytes(Stream);

        // A chunk with continuous usage stats still carries a token; only the empty-choices one is usage.
        for (var split = 1; split < bytes.Length; split += 7)
        {
            var scanner = new SseChunkScanner();
            var kinds = new List<SseDataKind>();
            scanner.Scan(bytes.AsSpan(0, split), kinds.Add);
            scanner.Scan(bytes.AsSpan(split), kinds.Add);

            Assert.Equal([SseDataKind.Chunk, SseDataKind.Chunk, SseDataKind.Usage, SseDataKind.Done], kinds);
            Assert.Equal(40, scanner.CompletionTokens);
        }
    }

    [Fact]
    public void LineLongerThanTheInspectionLimit_IsOneChunk()
    {
        var payload = "{\"choices\":[],\"usage\":{\"completion_tokens\":3},\"pad\":\"" + new string('x', SseChunkScanner.MaxInspectedLineLength) + "\"}";
        var scanner = new SseChunkScanner();
        var kinds = new List<SseDataKind>();
        scanner.Scan(Encoding.UTF8.GetBytes("data: " + payload + "\n\ndata: [DONE]\n\n"), kinds.Add);

        Assert.Equal([SseDataKind.Chunk, SseDataKind.Done], kinds);
        Assert.Null(scanner.CompletionTokens);
    }
}
