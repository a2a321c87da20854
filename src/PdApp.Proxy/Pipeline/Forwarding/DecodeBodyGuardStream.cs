using System.Runtime.CompilerServices;
using PdApp.Proxy.Pipeline.Migration;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Reads D's response body for the relay, bounded by the decode idle timeout: the relay's
/// <see cref="DecodeWatchdog"/> is re-armed for every read. On an event stream, when D goes silent
/// or its connection breaks after the 200 was sent, the client gets what vLLM itself sends for a
/// mid-stream failure, an in-band <c>data: {"error": ...}</c> event and <c>data: [DONE]</c>, and a
/// cleanly ended response instead of a reset connection. Other bodies cannot carry an error, so a
/// silence there fails the read and the relay resets the client's response. A client disconnect
/// still cancels the read at once. Every read's bytes are shown to the request's observer (it times
/// the stream's chunks) unless an <see cref="SseEventRelayStream"/> above frames the events and tells
/// the observer itself (one pass over the bytes, not two).
/// </summary>
internal sealed class DecodeBodyGuardStream : ReadOnlyRelayStream
{
    private readonly Stream _inner;
    private readonly DecodeCall _call;
    private readonly DecodeWatchdog _watchdog;
    private readonly UpstreamTimeouts _timeouts;
    private readonly bool _eventStream;
    private readonly IRequestObserver? _observer;
    private readonly CancellationToken _clientAborted;
    private CancellationTokenRegistration _relayRegistration;
    private CancellationToken _registeredToken;
    private ReadOnlyMemory<byte> _trailer;
    private bool _ended;
    private byte _last = (byte)'\n';
    private byte _beforeLast = (byte)'\n';

    public DecodeBodyGuardStream(
        Stream inner, DecodeCall call, DecodeWatchdog watchdog, UpstreamTimeouts timeouts, bool eventStream, IRequestObserver? observer, CancellationToken clientAborted)
    {
        _inner = inner;
        _call = call;
        _watchdog = watchdog;
        _timeouts = timeouts;
        _eventStream = eventStream;
        _observer = observer;
        _clientAborted = clientAborted;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_trailer.IsEmpty)
        {
            return DrainTrailer(buffer.Span);
        }

        if (_ended)
        {
            return 0;
        }

        try
        {
            var read = await _inner.ReadAsync(buffer, ArmIdleTimer(cancellationToken));

            // Disarm: time spent writing to a slow client is not D's silence.
            _watchdog.Disarm();

            // YARP waits for data with zero-byte reads; only a 0 for a real buffer is the end.
            if (read == 0 && !buffer.IsEmpty)
            {
                _ended = true;
            }
            else if (read > 0)
            {
                var span = buffer.Span[..read];
                _beforeLast = read >= 2 ? span[^2] : _last;
                _last = span[^1];
                _observer?.DecodeBytesRelayed(span);
            }

            return read;
        }
        catch (OperationCanceledException) when (_watchdog.Fired == DecodeDeadline.Shutdown && !_clientAborted.IsCancellationRequested)
        {
            // The drain deadline: end the stream the way vLLM ends a failed one, not with a reset.
            if (!_eventStream)
            {
                throw new TimeoutException(ShutdownDeadline.Message);
            }

            // The proxy is going away: the stream ends in-band here, it does not move.
            Fail(StatusCodes.Status503ServiceUnavailable, ShutdownDeadline.Message, reason: null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_clientAborted.IsCancellationRequested)
        {
            if (!_eventStream)
            {
                throw new TimeoutException(_timeouts.DecodeIdleTimedOut());
            }

            Fail(StatusCodes.Status504GatewayTimeout, _timeouts.DecodeIdleTimedOut(), MigrationReasons.IdleTimeout);
        }
        catch (Exception ex) when (_eventStream && ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested && !_clientAborted.IsCancellationRequested)
        {
            Fail(StatusCodes.Status502BadGateway, "The decode instance's stream broke off: " + UpstreamFailureText.Describe(ex) + ".", MigrationReasons.ConnectionLost);
        }

        return DrainTrailer(buffer.Span);
    }

    private CancellationToken ArmIdleTimer(CancellationToken relayToken)
    {
        // The relay's own token (YARP's, the client's) is followed once, not linked per chunk.
        if (relayToken != _registeredToken)
        {
            _relayRegistration.Dispose();
            _registeredToken = relayToken;
            _relayRegistration = _watchdog.Follow(relayToken);
        }

        return _watchdog.ArmForRead();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _relayRegistration.Dispose();
            if (!ClosedLaterIfBroken())
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _relayRegistration.DisposeAsync();
        if (!ClosedLaterIfBroken())
        {
            await _inner.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    // A failed stream's connection cannot be reused: closing it is a socket shutdown and close (tens of µs of
    // kernel time each). When a decode dies all its streams fail in the same instant, and each one's move (its
    // continuation, sent from this thread once the relay returns) should not wait behind the closes of the
    // others' connections: they are left to the thread pool, queued after the failures already waiting there.
    // True when the stream broke and its close was queued; false: the caller closes it in line.
    private bool ClosedLaterIfBroken()
    {
        if (_call.StreamError is null)
        {
            return false;
        }

        ThreadPool.UnsafeQueueUserWorkItem(
            static stream =>
            {
                try
                {
                    stream.Dispose();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Closing a connection that already broke: nothing left to report, and a work item's
                    // unhandled exception would end the process.
                }
            },
            _inner,
            preferLocal: false);
        return true;
    }

    private void Fail(int status, string message, string? reason)
    {
        _ended = true;
        _call.StreamError = message;
        _call.StreamErrorStatus = status;
        _call.StreamFailureReason = reason;
        if (reason is not null && _call.Progress is { } progress)
        {
            // The request may move: end this relay cleanly; the pipeline continues or ends in-band.
            progress.Fail(reason, status, message);
            return;
        }

        // An event cut in half must be closed first, or the error would be glued to its data line.
        var cut = _last != (byte)'\n' || _beforeLast != (byte)'\n';
        _trailer = SseErrorTrailer.Create(status, message, closeCutEvent: cut);
    }

    private int DrainTrailer(Span<byte> destination)
    {
        // A zero-byte read only asks whether data is ready; it is (the trailer), so answer 0 now
        // and hand the trailer to the next real read.
        var count = Math.Min(destination.Length, _trailer.Length);
        _trailer.Span[..count].CopyTo(destination);
        _trailer = _trailer[count..];
        _observer?.DecodeBytesRelayed(destination[..count]);
        return count;
    }
}
