namespace PdApp.Proxy.Pipeline;

/// <summary>The proxy's log messages (source-generated; prompts are never logged at Information).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Request {RequestId} {Route} -> {Status} in {DurationMs:0.0} ms: mode {Mode}, prefill {PrefillInstance}, decode {DecodeInstance}, kv {KvTransfer}")]
    public static partial void RequestCompleted(
        ILogger logger, string requestId, string route, int status, double durationMs, string mode, string? prefillInstance, string? decodeInstance, string? kvTransfer);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "Request {RequestId}: prefill on {Instance} failed ({Kind}: {Detail})")]
    public static partial void PrefillFailed(ILogger logger, string requestId, string instance, string kind, string? detail);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Request {RequestId}: decode on {Instance} failed ({Kind}: {Detail})")]
    public static partial void DecodeFailed(ILogger logger, string requestId, string instance, string kind, string? detail);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "Request {RequestId}: client disconnected after prefill on {Instance} and before decode answered; its KV may stay pinned until the connector's timeout")]
    public static partial void CancelledAfterPrefill(ILogger logger, string requestId, string instance);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning,
        Message = "Request {RequestId}: decode stream from {Instance} ended with an in-band error: {Detail}")]
    public static partial void DecodeStreamError(ILogger logger, string requestId, string instance, string detail);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information,
        Message = "Request {RequestId}: serving with decode only ({Reason})")]
    public static partial void DecodeOnly(ILogger logger, string requestId, string reason);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug,
        Message = "Request {RequestId}: admission refused ({Reason})")]
    public static partial void AdmissionRejected(ILogger logger, string requestId, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning,
        Message = "Request {RequestId}: the KV for decode {Instance} was not confirmed in time (no LMCache notification); decode computes what is missing")]
    public static partial void KvReadyTimedOut(ILogger logger, string requestId, string instance);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error,
        Message = "Request {RequestId} failed unexpectedly")]
    public static partial void UnexpectedFailure(ILogger logger, Exception exception, string requestId);

    [LoggerMessage(EventId = 140, Level = LogLevel.Information,
        Message = "Request {RequestId} migrates from decode {From} to {To} after {Cause}, {Tokens} tokens relayed (reproducible sampling: {Reproducible})")]
    public static partial void Migrating(ILogger logger, string requestId, string from, string to, string cause, int tokens, bool reproducible);

    [LoggerMessage(EventId = 141, Level = LogLevel.Warning,
        Message = "Request {RequestId} cannot migrate from decode {Instance} after {Cause}: {Reason}; it ends as without migration")]
    public static partial void MigrationRefused(ILogger logger, string requestId, string instance, string cause, string reason);

    [LoggerMessage(EventId = 144, Level = LogLevel.Warning,
        Message = "The migration warm-up failed; the first migration will compile its path when it comes")]
    public static partial void MigrationWarmUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 142, Level = LogLevel.Warning,
        Message = "Request {RequestId} failed to migrate from decode {Instance} after {Cause}: {Reason}")]
    public static partial void MigrationFailed(ILogger logger, string requestId, string instance, string cause, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information,
        Message = "Request {RequestId}: body refused with {Status}: {Reason}")]
    public static partial void BodyRefused(ILogger logger, string requestId, int status, string reason);
}
