using System.Net;

namespace PdApp.Proxy.Observability.Streaming;

/// <summary>
/// Wraps D's SSE content in a <see cref="SseTimingStream"/> (no buffering, no length). Headers stay
/// on the inner content: YARP copied them to the client's response before the body is replaced.
/// </summary>
internal sealed class SseTimingContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly Action<ReadOnlyMemory<byte>> _onBytes;

    public SseTimingContent(HttpContent inner, Action<ReadOnlyMemory<byte>> onBytes)
    {
        _inner = inner;
        _onBytes = onBytes;
    }

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        new SseTimingStream(await _inner.ReadAsStreamAsync(cancellationToken), _onBytes);

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var source = await CreateContentReadStreamAsync(CancellationToken.None);
        await source.CopyToAsync(stream);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
