namespace PdApp.Tests.Bench;

/// <summary>
/// A read-only stream that returns pre-set byte chunks one read at a time, advancing a
/// <see cref="SteppingTimeProvider"/> before each, so SSE timing is measured deterministically.
/// </summary>
internal sealed class ScriptedStream : Stream
{
    private readonly Queue<(TimeSpan Delay, byte[] Bytes)> _chunks;
    private readonly SteppingTimeProvider? _time;
    private byte[] _current = [];
    private int _offset;

    public ScriptedStream(IEnumerable<(TimeSpan Delay, string Text)> chunks, SteppingTimeProvider? time = null)
    {
        _chunks = new Queue<(TimeSpan, byte[])>(chunks.Select(chunk => (chunk.Delay, System.Text.Encoding.UTF8.GetBytes(chunk.Text))));
        _time = time;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_offset == _current.Length)
        {
            if (!_chunks.TryDequeue(out var next))
            {
                return 0;
            }

            _time?.Advance(next.Delay);
            _current = next.Bytes;
            _offset = 0;
        }

        var count = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsSpan(_offset, count).CopyTo(buffer);
        _offset += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
