using System.Text.Json;
using PdApp.Proxy.Pipeline.Forwarding;

namespace PdApp.Proxy.Observability.Streaming;

/// <summary>
/// Finds <c>data:</c> lines in an event stream as its bytes pass by, without buffering the stream:
/// each line is kept only up to <see cref="MaxInspectedLineLength"/> bytes (a usage chunk is a few
/// hundred) and classified when it ends (<c>[DONE]</c>, <c>{"error"</c>, a usage chunk, anything
/// else is a chunk), as OpenAI-style streams put one JSON object on one <c>data:</c> line. A longer
/// line is a chunk, reported once its limit is reached. A stream relayed with migration progress is
/// framed and read by its event relay, which classifies the events itself; this scanner sees the
/// other event streams, and the odd events that relay leaves to it.
/// </summary>
public sealed class SseChunkScanner
{
    /// <summary>The longest <c>data:</c> payload inspected whole; longer ones are chunks.</summary>
    public const int MaxInspectedLineLength = 4096;

    private static readonly byte[] DataField = "data:"u8.ToArray();
    private static readonly byte[] DoneMarker = "[DONE]"u8.ToArray();
    private static readonly byte[] ErrorMarker = "{\"error\""u8.ToArray();
    private static readonly byte[] UsageProperty = "\"usage\""u8.ToArray();

    // Grown on demand up to MaxInspectedLineLength: a token chunk is a few hundred bytes, and a
    // stream held open should not cost the whole maximum.
    private byte[] _line = [];
    private int _fieldMatched;
    private int _lineLength;
    private bool _collecting;
    private bool _skippingLine;
    private bool _spaceHandled;

    /// <summary>The <c>usage.completion_tokens</c> of the last usage chunk seen, or <see langword="null"/>.</summary>
    public int? CompletionTokens { get; private set; }

    /// <summary>Scans <paramref name="bytes"/>, calling <paramref name="onData"/> for each classified <c>data:</c> line.</summary>
    /// <param name="bytes">The next bytes of the stream.</param>
    /// <param name="onData">Receives each line's kind.</param>
    public void Scan(ReadOnlySpan<byte> bytes, Action<SseDataKind> onData)
    {
        ArgumentNullException.ThrowIfNull(onData);
        while (!bytes.IsEmpty)
        {
            if (_collecting || _skippingLine)
            {
                // The rest of a line: found and copied a span at a time, not byte by byte.
                var end = bytes.IndexOfAny((byte)'\n', (byte)'\r');
                if (_collecting)
                {
                    Collect(end < 0 ? bytes : bytes[..end], onData);
                }

                if (end < 0)
                {
                    return;
                }

                EndLine(onData);
                bytes = bytes[(end + 1)..];
                continue;
            }

            // The start of a line: is its field "data:"?
            var b = bytes[0];
            bytes = bytes[1..];
            if (b is (byte)'\n' or (byte)'\r')
            {
                EndLine(onData);
            }
            else if (b == DataField[_fieldMatched])
            {
                if (++_fieldMatched == DataField.Length)
                {
                    _collecting = true;
                    _lineLength = 0;
                    _spaceHandled = false;
                }
            }
            else
            {
                _skippingLine = true;
            }
        }
    }

    private void Collect(ReadOnlySpan<byte> segment, Action<SseDataKind> onData)
    {
        if (segment.IsEmpty)
        {
            return;
        }

        // One optional space after the colon belongs to the field syntax (SSE spec).
        if (_lineLength == 0 && !_spaceHandled)
        {
            _spaceHandled = true;
            if (segment[0] == (byte)' ')
            {
                segment = segment[1..];
            }
        }

        var take = Math.Min(segment.Length, MaxInspectedLineLength - _lineLength);
        if (_lineLength + take > _line.Length)
        {
            Array.Resize(ref _line, Math.Min(MaxInspectedLineLength, Math.Max(Math.Max(256, _line.Length * 2), _lineLength + take)));
        }

        segment[..take].CopyTo(_line.AsSpan(_lineLength));
        _lineLength += take;
        if (_lineLength == MaxInspectedLineLength)
        {
            onData(ClassifyByPrefix());
            _collecting = false;
            _skippingLine = true;
        }
    }

    private void EndLine(Action<SseDataKind> onData)
    {
        if (_collecting)
        {
            onData(Classify());
        }

        _fieldMatched = 0;
        _collecting = false;
        _skippingLine = false;
    }

    private SseDataKind Classify()
    {
        var kind = ClassifyByPrefix();
        if (kind == SseDataKind.Chunk && _line.AsSpan(0, _lineLength).IndexOf(UsageProperty) >= 0 && TryReadFinalUsage(out var completionTokens))
        {
            CompletionTokens = completionTokens;
            return SseDataKind.Usage;
        }

        return kind;
    }

    private SseDataKind ClassifyByPrefix()
    {
        var line = _line.AsSpan(0, _lineLength);
        if (line.StartsWith(DoneMarker))
        {
            return SseDataKind.Done;
        }

        return line.StartsWith(ErrorMarker) ? SseDataKind.Error : SseDataKind.Chunk;
    }

    /// <summary>
    /// Whether the line is a final usage chunk: <c>choices</c> empty (chunks that carry
    /// <c>continuous_usage_stats</c> still have a choice, and a token) and a numeric
    /// <c>usage.completion_tokens</c>.
    /// </summary>
    private bool TryReadFinalUsage(out int completionTokens)
    {
        completionTokens = 0;
        try
        {
            using var document = JsonDocument.Parse(_line.AsMemory(0, _lineLength));
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() == 0
                && root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("completion_tokens", out var tokens) && tokens.TryGetInt32(out completionTokens);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
