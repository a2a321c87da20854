namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>How a decode relay ended.</summary>
public enum DecodeOutcomeKind
{
    /// <summary>D's response (any status) was relayed whole.</summary>
    Relayed,

    /// <summary>D could not be reached; nothing was sent to the client, so another D may be tried where safe.</summary>
    ConnectFailed,

    /// <summary>D failed or timed out before its response headers; nothing was sent to the client.</summary>
    FailedBeforeResponse,

    /// <summary>D failed after the response started; the client connection was reset.</summary>
    FailedDuringResponse,

    /// <summary>The client went away.</summary>
    Canceled,
}

/// <summary>The outcome of a decode relay.</summary>
/// <param name="Kind">How it ended.</param>
/// <param name="TimedOut">Whether the failure was a timeout (connect or D's response headers).</param>
/// <param name="Detail">What went wrong, for logs.</param>
/// <param name="Message">What the client is told when nothing was sent yet (names the timeout that fired).</param>
public readonly record struct DecodeOutcome(DecodeOutcomeKind Kind, bool TimedOut = false, string? Detail = null, string? Message = null);
