namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// The migration timing log: one Debug line per move, written once the continuation's relay ended
/// (so formatting it costs nothing during the move), under the <see cref="MigrationTimeline"/>
/// category. <c>bench/lib/reliability.py</c> reads these lines to split the stall at the
/// migration point into its steps; turn them on with
/// <c>--Logging:LogLevel:PdApp.Proxy.Pipeline.Migration.MigrationTimeline=Debug</c>.
/// </summary>
public static partial class MigrationTimingLog
{
    /// <summary>Writes <paramref name="timeline"/> when the logger is enabled for Debug.</summary>
    /// <param name="logger">The <see cref="MigrationTimeline"/> category's logger.</param>
    /// <param name="requestId">The client-facing request id.</param>
    /// <param name="upstreamRequestId">The continuation's request id upstream.</param>
    /// <param name="from">The decode instance that failed.</param>
    /// <param name="to">The decode instance that continued.</param>
    /// <param name="timeline">The move's timeline.</param>
    public static void Write(ILogger logger, string requestId, string upstreamRequestId, string from, string to, MigrationTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeline);
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }

        Timing(
            logger,
            requestId,
            upstreamRequestId,
            from,
            to,
            timeline.TokensBefore,
            timeline.FailedAtUnixMilliseconds,
            timeline.SinceFailure(timeline.LastTokenAt),
            timeline.SinceFailure(timeline.Handled),
            timeline.SinceFailure(timeline.Built),
            timeline.SinceFailure(timeline.PrefillSent),
            timeline.SinceFailure(timeline.PrefillAnswered),
            timeline.SinceFailure(timeline.DecodeLeased),
            timeline.SinceFailure(timeline.DecodeSent),
            timeline.SinceFailure(timeline.DecodeHeaders),
            timeline.SinceFailure(timeline.FirstTokenRelayed),
            timeline.ThreadsAtFailure,
            timeline.QueuedAtFailure,
            timeline.ThreadsAtFirstToken,
            timeline.QueuedAtFirstToken,
            timeline.GcPauseAtFailure.TotalMilliseconds,
            timeline.GcCountAtFailure,
            timeline.JitTimeAtFailure.TotalMilliseconds,
            timeline.JitMethodsAtFailure);
    }

    [LoggerMessage(EventId = 143, Level = LogLevel.Debug,
        Message = "Request {RequestId} migration timing: upstream {UpstreamRequestId}, {From} -> {To}, {TokensBefore} tokens before, failed at {FailedAtUnixMs:0.0}; ms after the failure: last token {LastTokenMs:0.0}, handled {HandledMs:0.0}, built {BuiltMs:0.0}, prefill sent {PrefillSentMs:0.0}, prefill answered {PrefillAnsweredMs:0.0}, decode leased {DecodeLeasedMs:0.0}, decode sent {DecodeSentMs:0.0}, decode headers {DecodeHeadersMs:0.0}, first token {FirstTokenMs:0.0}; thread pool at failure {ThreadsAtFailure} threads {QueuedAtFailure} queued, at first token {ThreadsAtFirstToken} threads {QueuedAtFirstToken} queued; GC at failure {GcPauseMs:0.0} ms paused in all, {GcCollections} collections; JIT at failure {JitMs:0.0} ms compiling in all, {JitMethods} methods")]
    private static partial void Timing(
        ILogger logger,
        string requestId,
        string upstreamRequestId,
        string from,
        string to,
        int tokensBefore,
        double failedAtUnixMs,
        double lastTokenMs,
        double handledMs,
        double builtMs,
        double prefillSentMs,
        double prefillAnsweredMs,
        double decodeLeasedMs,
        double decodeSentMs,
        double decodeHeadersMs,
        double firstTokenMs,
        int threadsAtFailure,
        long queuedAtFailure,
        int threadsAtFirstToken,
        long queuedAtFirstToken,
        double gcPauseMs,
        int gcCollections,
        double jitMs,
        long jitMethods);
}
