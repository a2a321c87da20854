using System.Net;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Replaces an upstream response's content with a wrapper stream around it (no buffering, no
/// length). Headers stay on the inner content: YARP has copied them to the client's response
/// before the body is read.
/// </summary>
/// <param name="inner">D's content.</param>
/// <param name="wrap">Builds the stream the relay reads from D's stream.</param>
internal sealed class WrappedStreamContent(HttpContent inner, Func<Stream, Stream> wrap) : HttpContent
{
    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        wrap(await inner.ReadAsStreamAsync(cancellationToken));

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
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
