namespace PdApp.Proxy.Observability.Streaming;

/// <summary>What a <c>data:</c> line of an event stream carried.</summary>
public enum SseDataKind
{
    /// <summary>A completion chunk (one token with vLLM's default streaming).</summary>
    Chunk,

    /// <summary><c>data: [DONE]</c>.</summary>
    Done,

    /// <summary>An in-band error event, <c>data: {"error": ...}</c>.</summary>
    Error,
}

/// <summary>
/// Finds <c>data:</c> lines in an event stream as its bytes pass by, without buffering it: a few
/// bytes of state carry a line split across reads. Each line is classified from its first bytes
/// (<c>[DONE]</c>, <c>{"error"</c>, anything else is a chunk), as OpenAI-style streams put one JSON
/// object on one <c>data:</c> line.
/// </summary>
public sealed class SseChunkScanner
{
    private static readonly byte[] DataField = "data:"u8.ToArray();
    private static readonly byte[] DoneMarker = "[DONE]"u8.ToArray();
    private static readonly byte[] ErrorMarker = "{\"error\""u8.ToArray();
    private const int PrefixLength = 8;

    private readonly byte[] _prefix = new byte[PrefixLength];
    private int _fieldMatched;
    private int _prefixLength;
    private bool _collecting;
    private bool _skippingLine;
    private bool _spaceHandled;

    /// <summary>Scans <paramref name="bytes"/>, calling <paramref name="onData"/> for each classified <c>data:</c> line.</summary>
    /// <param name="bytes">The next bytes of the stream.</param>
    /// <param name="onData">Receives each line's kind.</param>
    public void Scan(ReadOnlySpan<byte> bytes, Action<SseDataKind> onData)
    {
        ArgumentNullException.ThrowIfNull(onData);
        foreach (var b in bytes)
        {
            if (b is (byte)'\n' or (byte)'\r')
            {
                if (_collecting)
                {
                    onData(Classify());
                }

                _fieldMatched = 0;
                _collecting = false;
                _skippingLine = false;
                continue;
            }

            if (_skippingLine)
            {
                continue;
            }

            if (_collecting)
            {
                // One optional space after the colon belongs to the field syntax (SSE spec).
                if (_prefixLength == 0 && !_spaceHandled && b == (byte)' ')
                {
                    _spaceHandled = true;
                    continue;
                }

                _prefix[_prefixLength++] = b;
                if (_prefixLength == PrefixLength)
                {
                    onData(Classify());
                    _collecting = false;
                    _skippingLine = true;
                }

                continue;
            }

            if (b == DataField[_fieldMatched])
            {
                if (++_fieldMatched == DataField.Length)
                {
                    _collecting = true;
                    _prefixLength = 0;
                    _spaceHandled = false;
                }
            }
            else
            {
                _skippingLine = true;
            }
        }
    }

    private SseDataKind Classify()
    {
        var prefix = _prefix.AsSpan(0, _prefixLength);
        if (prefix.StartsWith(DoneMarker))
        {
            return SseDataKind.Done;
        }

        return prefix.StartsWith(ErrorMarker) ? SseDataKind.Error : SseDataKind.Chunk;
    }
}
