using System.Buffers;

namespace PdApp.Bench.Measurement;

/// <summary>
/// Reads server-sent events from a response body without allocating per event: the
/// <c>data</c> of each event is exposed as a span over a reused buffer, valid until the next
/// call. Follows the WHATWG event-stream rules the OpenAI-compatible servers rely on: lines end
/// with LF or CRLF, an empty line dispatches the event, several <c>data:</c> lines join with LF,
/// one space after the colon is dropped, comment lines (<c>:</c>) and other fields are ignored.
/// </summary>
internal sealed class SseEventReader : IDisposable
{
    private const int InitialBufferSize = 16 * 1024;
    private static ReadOnlySpan<byte> DataField => "data"u8;

    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _endOfStream;
    private byte[] _data;
    private int _dataLength;
    private bool _hasData;

    /// <summary>Creates a reader over <paramref name="stream"/> (not disposed by the reader).</summary>
    public SseEventReader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
        _data = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
    }

    /// <summary>The data of the event last returned by <see cref="ReadEventAsync"/>.</summary>
    public ReadOnlySpan<byte> Data => _data.AsSpan(0, _dataLength);

    /// <summary>
    /// Reads up to the end of the next event that carries data.
    /// </summary>
    /// <returns>True when an event was read; false at the end of the stream.</returns>
    public async ValueTask<bool> ReadEventAsync(CancellationToken cancellationToken)
    {
        _dataLength = 0;
        _hasData = false;
        while (true)
        {
            if (TryDispatchBufferedLines())
            {
                return true;
            }

            if (_endOfStream)
            {
                // A stream cut after a data line but before its blank line still delivers the
                // event, so a server that omits the final terminator is not misread as empty.
                if (_start < _end)
                {
                    ProcessLine(_buffer.AsSpan(_start, _end - _start));
                    _start = _end;
                }

                return _hasData;
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        ArrayPool<byte>.Shared.Return(_data);
        _buffer = [];
        _data = [];
    }

    private bool TryDispatchBufferedLines()
    {
        while (_start < _end)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var newline = pending.IndexOf((byte)'\n');
            if (newline < 0)
            {
                return false;
            }

            var line = pending[..newline];
            _start += newline + 1;
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.IsEmpty)
            {
                if (_hasData)
                {
                    return true;
                }

                continue;
            }

            ProcessLine(line);
        }

        return false;
    }

    private void ProcessLine(ReadOnlySpan<byte> line)
    {
        if (line[0] == (byte)':')
        {
            return;
        }

        var colon = line.IndexOf((byte)':');
        var field = colon < 0 ? line : line[..colon];
        if (!field.SequenceEqual(DataField))
        {
            return;
        }

        var value = colon < 0 ? ReadOnlySpan<byte>.Empty : line[(colon + 1)..];
        if (value.Length > 0 && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (_hasData)
        {
            AppendData("\n"u8);
        }

        AppendData(value);
        _hasData = true;
    }

    private void AppendData(ReadOnlySpan<byte> value)
    {
        if (_dataLength + value.Length > _data.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_data.Length * 2, _dataLength + value.Length));
            _data.AsSpan(0, _dataLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_data);
            _data = larger;
        }

        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Keep the partial line at the front so the buffer only grows for lines longer than it.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _endOfStream = true;
        }
        else
        {
            _end += read;
        }
    }
}
