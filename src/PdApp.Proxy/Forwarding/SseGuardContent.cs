using System.Net;

namespace PdApp.Proxy.Forwarding;

/// <summary>Wraps D's SSE body in a <see cref="SseGuardStream"/>.</summary>
internal sealed class SseGuardContent(HttpContent inner, DecodeCall call, TimeSpan idleTimeout, CancellationToken clientAborted) : HttpContent
{
    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        new SseGuardStream(await inner.ReadAsStreamAsync(cancellationToken), call, idleTimeout, clientAborted);

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
