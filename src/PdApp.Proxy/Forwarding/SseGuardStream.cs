using System.Text.Json;
using PdApp.Protocol;

namespace PdApp.Proxy.Forwarding;

/// <summary>
/// Reads D's event stream for the relay. When D goes silent for longer than the decode idle
/// timeout or its connection breaks after the 200 was sent, the client gets what vLLM itself
/// sends for a mid-stream failure, an in-band <c>data: {"error": ...}</c> event and
/// <c>data: [DONE]</c>, and a cleanly ended response, instead of a reset connection. The idle
/// timer is enforced here (YARP's activity timeout, the same length, still guards the response
/// headers and other bodies); a client disconnect still cancels the read at once.
/// </summary>
internal sealed class SseGuardStream : ReadOnlyRelayStream
{
    private readonly Stream _inner;
    private readonly DecodeCall _call;
    private readonly TimeSpan _idleTimeout;
    private readonly CancellationToken _clientAborted;
    // One timer source for the whole stream, re-armed per read (a linked source per chunk would
    // allocate for every token); the relay's own token is linked into it once.
    private readonly CancellationTokenSource _idle = new();
    private CancellationTokenRegistration _relayRegistration;
    private CancellationToken _registeredToken;
    private ReadOnlyMemory<byte> _trailer;
    private bool _ended;
    private byte _last = (byte)'\n';
    private byte _beforeLast = (byte)'\n';

    public SseGuardStream(Stream inner, DecodeCall call, TimeSpan idleTimeout, CancellationToken clientAborted)
    {
        _inner = inner;
        _call = call;
        _idleTimeout = idleTimeout;
        _clientAborted = clientAborted;
    }

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
            _idle.TryReset();

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
            }

            return read;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_clientAborted.IsCancellationRequested)
        {
            Fail(StatusCodes.Status504GatewayTimeout, $"The decode instance sent nothing for {_idleTimeout.TotalSeconds:0.###} s (Pd:Proxy:Timeouts:DecodeIdleSeconds).");
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested && !_clientAborted.IsCancellationRequested)
        {
            Fail(StatusCodes.Status502BadGateway, "The decode instance's stream broke off: " + ex.Message);
        }

        return DrainTrailer(buffer.Span);
    }

    private CancellationToken ArmIdleTimer(CancellationToken relayToken)
    {
        if (relayToken != _registeredToken)
        {
            _relayRegistration.Dispose();
            _registeredToken = relayToken;
            _relayRegistration = relayToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _idle);
        }

        // TryReset fails only once cancelled; the caller's catch then sees why.
        if (_idle.TryReset())
        {
            _idle.CancelAfter(_idleTimeout);
        }

        return _idle.Token;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _relayRegistration.Dispose();
            _idle.Dispose();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _relayRegistration.DisposeAsync();
        _idle.Dispose();
        await _inner.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private void Fail(int status, string message)
    {
        _ended = true;
        _call.StreamError = message;
        var error = JsonSerializer.SerializeToUtf8Bytes(
            OpenAiErrorWriter.Create(status, OpenAiErrorTypes.ServiceUnavailable, message),
            ProxyJson.Options);
        using var trailer = new MemoryStream();

        // An event cut in half must be closed first, or the error would be glued to its data line.
        if (_last != (byte)'\n' || _beforeLast != (byte)'\n')
        {
            trailer.Write(SseFormat.EventTerminator.Span);
        }

        trailer.Write(SseFormat.DataPrefix.Span);
        trailer.Write(error);
        trailer.Write(SseFormat.EventTerminator.Span);
        trailer.Write(SseFormat.DoneEvent.Span);
        _trailer = trailer.ToArray();
    }

    private int DrainTrailer(Span<byte> destination)
    {
        // A zero-byte read only asks whether data is ready; it is (the trailer), so answer 0 now
        // and hand the trailer to the next real read.
        var count = Math.Min(destination.Length, _trailer.Length);
        _trailer.Span[..count].CopyTo(destination);
        _trailer = _trailer[count..];
        return count;
    }
}
