namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Base of the read-only, forward-only streams the proxy puts around D's response body for the
/// relay (<see cref="DecodeBodyGuardStream"/>, <see cref="SseEventRelayStream"/>): everything but
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> is answered once here. YARP reads
/// asynchronously; the synchronous overload exists only to honour the <see cref="Stream"/> contract.
/// </summary>
internal abstract class ReadOnlyRelayStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
