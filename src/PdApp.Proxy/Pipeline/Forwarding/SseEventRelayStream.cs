using System.Runtime.CompilerServices;
using System.Buffers;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Proxy.Buffers;

using PdApp.Proxy.Pipeline.Migration;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Relays a decode event stream whole events at a time while recording what the client received
/// (<see cref="StreamProgress"/>), so a migrated request can continue exactly where the client's
/// stream stands. An event is passed on once its terminator arrives (vLLM writes one event per
/// write, so nothing waits); the part of an event cut off by a failure is never sent, and an
/// in-band error meaning the engine died (a 5xx code, or vLLM's engine-dead messages, which it
/// sends with code 400) is held back while the request may still move. With a
/// <see cref="ContinuationEventRewriter"/>, each event of a continuation is rewritten to belong to
/// the client's original stream. Not buffering: at most one partial event is held. D's own events
/// are relayed in place: read into the caller's buffer and handed out from there, so the relay
/// copies only a partial event's bytes (rewritten events go through a buffer of their own). This is the one
/// pass over the stream's bytes: each event's facts also go to the request's observer
/// (<see cref="IRequestObserver.DecodeEventRelayed"/>: chunk timing, final usage), so neither the
/// body guard below nor the observer scans the bytes again.
/// </summary>
internal sealed class SseEventRelayStream : ReadOnlyRelayStream
{
    private static readonly byte[] Terminator = [(byte)'\n', (byte)'\n'];
    private readonly Stream _inner;
    private readonly StreamProgress _progress;
    private readonly ContinuationEventRewriter? _rewriter;
    private readonly IRequestObserver? _observer;
    private readonly PooledByteBuffer _text = new(256);

    // A partial event held back (and, when relaying through buffers, D's reads).
    private PooledByteBuffer? _pending;

    // Events waiting to be handed out when they are not relayed in place (rewritten ones).
    private PooledByteBuffer? _ready;
    private int _readyOffset;
    private bool _ended;
    private bool _inPlace;
    private bool _emitted;

    /// <summary>Creates the relay.</summary>
    /// <param name="inner">D's event stream (already guarded by the idle timeout).</param>
    /// <param name="progress">The request's progress, updated per event.</param>
    /// <param name="rewriter">Rewrites a continuation's events, or null for the first decode.</param>
    /// <param name="observer">Told of each event D sent (before any rewriting), or null.</param>
    public SseEventRelayStream(Stream inner, StreamProgress progress, ContinuationEventRewriter? rewriter = null, IRequestObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(progress);
        _inner = inner;
        _progress = progress;
        _rewriter = rewriter;
        _observer = observer;
    }

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // YARP waits for every chunk with a zero-byte read: with nothing to hand out, D's stream
        // answers it directly (no state machine of the relay's own per token).
        if (buffer.IsEmpty && !_ended && (_ready is null || _readyOffset == _ready.WrittenCount))
        {
            return _inner.ReadAsync(buffer, cancellationToken);
        }

        return ReadCoreAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_ready is not null && _readyOffset < _ready.WrittenCount)
            {
                return Drain(buffer.Span);
            }

            if (_ended)
            {
                return 0;
            }

            if (buffer.IsEmpty)
            {
                // A zero-byte read only waits for data: let D's stream answer it.
                return await _inner.ReadAsync(buffer, cancellationToken);
            }

            var held = _pending?.WrittenCount ?? 0;
            if (_rewriter is null && held < buffer.Length)
            {
                // In place: D's bytes land in the caller's buffer (after the partial event held back)
                // and its whole events are handed out from there, unchanged, without another copy.
                if (held > 0)
                {
                    _pending!.WrittenSpan.CopyTo(buffer.Span);
                    _pending.Clear();
                }

                var count = await _inner.ReadAsync(buffer[held..], cancellationToken);
                if (count == 0)
                {
                    // A cut event is dropped when the decode failed; otherwise D simply omitted the last terminator.
                    _ended = true;
                    return _progress.FailureReason is null && held > 0 ? RelayInPlace(buffer[..held], final: true) : 0;
                }

                var relayed = RelayInPlace(buffer[..(held + count)], final: false);
                if (relayed > 0 || _ended)
                {
                    return relayed;
                }

                continue;
            }

            // Through buffers: a continuation's events are rewritten, or a partial event outgrew the caller's buffer.
            _pending ??= new PooledByteBuffer(4096);
            var read = await _inner.ReadAsync(_pending.GetMemory(4096), cancellationToken);
            if (read == 0)
            {
                _ended = true;

                // A cut event is dropped when the decode failed; otherwise D simply omitted the last terminator.
                if (_progress.FailureReason is null && _pending.WrittenCount > 0)
                {
                    ProcessEvent(_pending.WrittenMemory);
                }

                _pending.Clear();
                continue;
            }

            _pending.Advance(read);
            ProcessCompleteEvents();
        }
    }

    // Processes the whole events at the start of data where they lie; keeps a trailing partial one
    // (all of data when final). Returns how many bytes of data go to the client.
    private int RelayInPlace(Memory<byte> data, bool final)
    {
        _inPlace = true;
        try
        {
            if (final)
            {
                _emitted = false;
                ProcessEvent(data);
                return _emitted ? data.Length : 0;
            }

            var relayed = 0;
            while (true)
            {
                var end = data.Span[relayed..].IndexOf(Terminator);
                if (end < 0)
                {
                    break;
                }

                var length = end + Terminator.Length;
                _emitted = false;
                ProcessEvent(data.Slice(relayed, length));
                if (!_emitted)
                {
                    // Held back (the engine died): the relay ends before this event.
                    return relayed;
                }

                relayed += length;
            }

            if (relayed < data.Length)
            {
                (_pending ??= new PooledByteBuffer(4096)).Write(data.Span[relayed..]);
            }

            return relayed;
        }
        finally
        {
            _inPlace = false;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            ReturnBuffers();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        ReturnBuffers();
        GC.SuppressFinalize(this);
    }

    private void ReturnBuffers()
    {
        _ended = true;
        _readyOffset = 0;
        _pending?.Dispose();
        _ready?.Dispose();
        _text.Dispose();
    }

    private void ProcessCompleteEvents()
    {
        var pending = _pending!;
        var data = pending.WrittenMemory;
        var consumed = 0;
        while (!_ended)
        {
            var end = data.Span[consumed..].IndexOf(Terminator);
            if (end < 0)
            {
                break;
            }

            ProcessEvent(data.Slice(consumed, end + Terminator.Length));
            consumed += end + Terminator.Length;
        }

        if (_ended)
        {
            pending.Clear();
            return;
        }

        // Keep the partial event at the start of the buffer.
        pending.DiscardFront(consumed);
    }

    private void ProcessEvent(ReadOnlyMemory<byte> memory)
    {
        var sse = memory.Span;
        var prefix = SseFormat.DataPrefix.Span;
        if (!sse.StartsWith(prefix))
        {
            ShowBytes(sse);
            Emit(sse);
            return;
        }

        var payload = memory[prefix.Length..].TrimEnd((byte)'\n').TrimEnd((byte)'\r');
        if (payload.Span.SequenceEqual("[DONE]"u8))
        {
            _observer?.DecodeEventRelayed(SseDataKind.Done, null);
            _progress.MarkDone();
            Emit(sse);
            return;
        }

        _text.Clear();
        ChunkFacts? facts;
        try
        {
            facts = ChunkFacts.Read(payload.Span, _text, withIdentity: _rewriter is null && _progress.Id is null);
        }
        catch (JsonException)
        {
            ShowBytes(sse);
            Emit(sse);
            return;
        }

        if (facts is not { } chunk)
        {
            ShowBytes(sse);
            Emit(sse);
            return;
        }

        Show(chunk, payload.Span, sse);
        if (chunk.IsError)
        {
            ProcessError(payload.Span, sse);
            return;
        }

        if (_rewriter is null)
        {
            _progress.Identify(chunk.Id, chunk.Created);
            Record(chunk);
            Emit(sse);
            return;
        }

        if (_rewriter.Rewrite(payload.Span, chunk, _progress) is { } rewritten)
        {
            Record(chunk);
            Emit(rewritten);
        }
    }

    // What the observer's own scan of the bytes would have found: one data line holding one JSON
    // object is classified from its facts; anything else (comments, other fields, several data
    // lines, not JSON) is shown as bytes for the observer to scan.
    private void Show(ChunkFacts chunk, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> sse)
    {
        if (_observer is null)
        {
            return;
        }

        if (payload.IndexOfAny((byte)'\n', (byte)'\r') >= 0)
        {
            _observer.DecodeBytesRelayed(sse);
        }
        else if (chunk.IsError && payload.StartsWith("{\"error\""u8))
        {
            _observer.DecodeEventRelayed(SseDataKind.Error, null);
        }
        else if (chunk.FinalUsageTokens is { } tokens)
        {
            _observer.DecodeEventRelayed(SseDataKind.Usage, tokens);
        }
        else
        {
            _observer.DecodeEventRelayed(SseDataKind.Chunk, null);
        }
    }

    private void ShowBytes(ReadOnlySpan<byte> sse) => _observer?.DecodeBytesRelayed(sse);

    // An in-band error is rare: read it whole.
    private void ProcessError(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> sse)
    {
        var reader = new Utf8JsonReader(payload);
        using var document = JsonDocument.ParseValue(ref reader);
        var error = document.RootElement.GetProperty("error");
        var status = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.TryGetInt32(out var number) ? number : 500;
        var message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
        if ((status >= 500 || SaysEngineDied(message)) && !_progress.Finished)
        {
            // The engine died mid-stream: hold the error back while the request may move.
            _progress.Fail(MigrationReasons.EngineError, status, message ?? "The decode instance reported an error.", sse.ToArray());
            _ended = true;
            return;
        }

        Emit(sse);
    }

    // vLLM sends a dead engine's error in-band with its default 400 code; its message says what happened
    // (EngineDeadError, vllm/v1/engine/exceptions.py; the V0 engine's dead background loop).
    private static bool SaysEngineDied(string? message) =>
        message is not null
        && (message.Contains("EngineCore encountered an issue", StringComparison.Ordinal)
            || message.Contains("EngineDeadError", StringComparison.Ordinal)
            || message.Contains("Engine loop has died", StringComparison.Ordinal)
            || message.Contains("Background loop has errored already", StringComparison.Ordinal));

    private void Record(ChunkFacts chunk)
    {
        if (chunk.HasChoice)
        {
            _progress.AddContent(_text.WrittenSpan, chunk.IsRole, chunk.Finished);
        }
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (_inPlace)
        {
            // The event is already where the client's bytes are read from (only D's own bytes relay in place).
            _emitted = true;
            return;
        }

        _ready ??= new PooledByteBuffer(4096);
        if (_readyOffset == _ready.WrittenCount)
        {
            _ready.Clear();
            _readyOffset = 0;
        }

        _ready.Write(bytes);
    }

    private int Drain(Span<byte> destination)
    {
        var available = _ready!.WrittenSpan[_readyOffset..];
        var count = Math.Min(destination.Length, available.Length);
        available[..count].CopyTo(destination);
        _readyOffset += count;
        return count;
    }
}
