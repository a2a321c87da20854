using System.Buffers;
using System.Diagnostics;
using System.Text;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// What the client of one streamed request has received so far, across every decode instance that
/// served it: the text and token count a continuation must start after, the stream's identity
/// (<c>id</c>, <c>created</c>) that continuations keep, and why the last decode stopped early.
/// Written by the decode relay (<c>Forwarding/SseEventRelayStream</c>), one event at a time, on the request's own flow.
/// </summary>
public sealed class StreamProgress
{
    // UTF-8 as relayed: made into a string only when a continuation needs it.
    private readonly ArrayBufferWriter<byte> _text = new(256);

    /// <summary>The text relayed (completions <c>text</c>, chat <c>delta.content</c>), in order.</summary>
    public string Text => Encoding.UTF8.GetString(_text.WrittenSpan);

    /// <summary>Whether any text was relayed.</summary>
    public bool HasText => _text.WrittenCount > 0;

    /// <summary>Content chunks relayed: one per token for vLLM and the simulator (no speculative decoding).</summary>
    public int Tokens { get; private set; }

    /// <summary>The stream's <c>id</c>, from its first event.</summary>
    public string? Id { get; private set; }

    /// <summary>The stream's <c>created</c>, from its first event.</summary>
    public long? Created { get; private set; }

    /// <summary>Whether a chat role delta was relayed (a continuation's own is dropped).</summary>
    public bool RoleSent { get; private set; }

    /// <summary>Whether a <c>finish_reason</c> was relayed: the generation is over, only usage and <c>[DONE]</c> may follow.</summary>
    public bool Finished { get; private set; }

    /// <summary>Whether <c>data: [DONE]</c> was relayed.</summary>
    public bool Done { get; private set; }

    /// <summary>Why the current decode stopped early (a <see cref="MigrationReasons"/> cause), or null.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>The message of that failure, for the in-band error when the request cannot move.</summary>
    public string? FailureMessage { get; private set; }

    /// <summary>The HTTP status the in-band error carries (502 broken, 504 silent, D's own code).</summary>
    public int FailureStatus { get; private set; }

    /// <summary>The event D sent for an in-band error, held back while a move is possible.</summary>
    public ReadOnlyMemory<byte> WithheldEvent { get; private set; }

    /// <summary>When the current failure was recorded (<see cref="Stopwatch"/> ticks), or 0: where a move's timeline starts.</summary>
    public long FailedAt { get; private set; }

    /// <summary>When the last content event was relayed (<see cref="Stopwatch"/> ticks), or 0.</summary>
    public long LastContentAt { get; private set; }

    /// <summary>Records a decode failure and clears it from the stream (the relay ends cleanly).</summary>
    /// <param name="reason">The cause.</param>
    /// <param name="status">The status for the in-band error.</param>
    /// <param name="message">The message.</param>
    /// <param name="withheldEvent">D's own error event, if it sent one.</param>
    public void Fail(string reason, int status, string message, ReadOnlyMemory<byte> withheldEvent = default)
    {
        if (FailureReason is null)
        {
            FailedAt = Stopwatch.GetTimestamp();
        }

        FailureReason ??= reason;
        FailureStatus = FailureStatus == 0 ? status : FailureStatus;
        FailureMessage ??= message;
        WithheldEvent = WithheldEvent.IsEmpty ? withheldEvent : WithheldEvent;
    }

    /// <summary>Clears the failure before the next decode takes over.</summary>
    public void ClearFailure()
    {
        FailureReason = null;
        FailureMessage = null;
        FailureStatus = 0;
        WithheldEvent = default;
        FailedAt = 0;
    }

    internal void Identify(string? id, long? created)
    {
        Id ??= id;
        Created ??= created;
    }

    internal void AddContent(ReadOnlySpan<byte> utf8Text, bool isRole, bool finished)
    {
        RoleSent |= isRole;
        LastContentAt = Stopwatch.GetTimestamp();
        _text.Write(utf8Text);
        if (!isRole && (!utf8Text.IsEmpty || !finished))
        {
            Tokens++;
        }

        Finished |= finished;
    }

    internal void MarkDone() => Done = true;
}
