using PdApp.Proxy.Pipeline.Flows;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>How one prefill call ended.</summary>
public enum PrefillAttemptKind
{
    /// <summary>P answered 2xx.</summary>
    Succeeded,

    /// <summary>P refused the request (4xx but 429): the request is at fault; retrying elsewhere would not help.</summary>
    Rejected,

    /// <summary>P answered 5xx or 429.</summary>
    UpstreamError,

    /// <summary>P did not answer within <c>Pd:Proxy:Timeouts:PrefillSeconds</c>.</summary>
    TimedOut,

    /// <summary>Connection failed or broke, or the response was unreadable or too large.</summary>
    TransportError,

    /// <summary>The client went away.</summary>
    Canceled,
}

/// <summary>The outcome of one prefill call.</summary>
/// <param name="Kind">How it ended.</param>
/// <param name="StatusCode">P's status, when it answered.</param>
/// <param name="Body">P's body, when it answered.</param>
/// <param name="ContentType">P's content type, when it answered.</param>
/// <param name="Detail">What went wrong, for logs and error messages.</param>
public sealed record PrefillAttempt(PrefillAttemptKind Kind, int StatusCode, ReadOnlyMemory<byte> Body, string? ContentType, string? Detail)
{
    /// <summary>Whether another prefill instance may succeed where this one failed.</summary>
    public bool IsRetryable => Kind is PrefillAttemptKind.UpstreamError or PrefillAttemptKind.TimedOut or PrefillAttemptKind.TransportError;

    /// <summary>The response for the decode step.</summary>
    /// <returns>The response.</returns>
    public PrefillResponse ToResponse() => new(StatusCode, Body);
}
