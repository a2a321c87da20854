using PdApp.Proxy.Pipeline.Forwarding;

namespace PdApp.Proxy.Observability.Streaming;

/// <summary>
/// Passes D's event stream through unchanged (zero-byte reads included, YARP uses them to wait for
/// data) and shows each read's bytes to <paramref name="onBytes"/> the moment they arrive.
/// </summary>
internal sealed class SseTimingStream(Stream inner, Action<ReadOnlyMemory<byte>> onBytes) : ReadOnlyRelayStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        if (read > 0)
        {
            onBytes(buffer[..read]);
        }

        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
