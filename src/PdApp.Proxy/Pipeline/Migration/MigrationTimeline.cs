using System.Diagnostics;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// When each step of one move happened, for the migration timing log (Debug, category
/// <c>PdApp.Proxy.Pipeline.Migration.MigrationTimeline</c>): the failure as the relay saw it, then the
/// continuation built, its prefill sent and answered, the new decode leased, the continuation sent,
/// D's headers and the first token written to the client; and the thread pool's threads and queued
/// work items at the failure and at that first token (a burst of moves that starves the pool shows
/// there). Timestamps are <see cref="Stopwatch"/> ticks; the log turns them into milliseconds after
/// the failure and the failure into Unix time, so a bench can line them up with its own clock.
/// Written on the request's own flow, one step after the other.
/// </summary>
public sealed class MigrationTimeline
{
    private readonly long _created = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _createdWall = DateTimeOffset.UtcNow;

    /// <summary>Creates the timeline of a move whose decode failed at <paramref name="failedAt"/>.</summary>
    /// <param name="failedAt">When the relay recorded the failure (<see cref="StreamProgress.FailedAt"/>), or 0 for now.</param>
    /// <param name="lastTokenAt">When the last token before the failure was relayed, or 0.</param>
    /// <param name="tokensBefore">Tokens the client had received before the move.</param>
    public MigrationTimeline(long failedAt, long lastTokenAt, int tokensBefore)
    {
        TokensBefore = tokensBefore;
        FailedAt = failedAt == 0 ? _created : failedAt;
        LastTokenAt = lastTokenAt;
        Handled = _created;
        (ThreadsAtFailure, QueuedAtFailure) = (ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount);
        (GcPauseAtFailure, GcCountAtFailure) = (GC.GetTotalPauseDuration(), GC.CollectionCount(0));
        (JitTimeAtFailure, JitMethodsAtFailure) = (System.Runtime.JitInfo.GetCompilationTime(), System.Runtime.JitInfo.GetCompiledMethodCount());
    }

    /// <summary>Tokens the client had received before the move (the continuation's first is the next).</summary>
    public int TokensBefore { get; }

    /// <summary>The failure, as the relay recorded it.</summary>
    public long FailedAt { get; }

    /// <summary>The last token relayed before the failure (0 when none).</summary>
    public long LastTokenAt { get; }

    /// <summary>The pipeline took the failure up (the relay returned).</summary>
    public long Handled { get; }

    /// <summary>The continuation's body was built and parsed.</summary>
    public long Built { get; private set; }

    /// <summary>Its prefill call was started.</summary>
    public long PrefillSent { get; private set; }

    /// <summary>Its prefill call answered.</summary>
    public long PrefillAnswered { get; private set; }

    /// <summary>A decode instance was leased for it.</summary>
    public long DecodeLeased { get; private set; }

    /// <summary>The continuation was sent to the new decode instance.</summary>
    public long DecodeSent { get; private set; }

    /// <summary>The new decode's response headers arrived.</summary>
    public long DecodeHeaders { get; private set; }

    /// <summary>The continuation's first event was written and flushed to the client.</summary>
    public long FirstTokenRelayed { get; private set; }

    /// <summary>Thread-pool threads when the pipeline took the failure up.</summary>
    public int ThreadsAtFailure { get; }

    /// <summary>Thread-pool work items queued then.</summary>
    public long QueuedAtFailure { get; }

    /// <summary>Thread-pool threads when the first token was relayed.</summary>
    public int ThreadsAtFirstToken { get; private set; }

    /// <summary>Thread-pool work items queued then.</summary>
    public long QueuedAtFirstToken { get; private set; }

    /// <summary>
    /// The process's total GC pause time when the pipeline took the failure up: across the moves of one
    /// decode's death, a pause that held back the relays' reads shows as a step between their values.
    /// </summary>
    public TimeSpan GcPauseAtFailure { get; }

    /// <summary>Gen-0 (i.e. all) collections so far, then.</summary>
    public int GcCountAtFailure { get; }

    /// <summary>
    /// The process's total JIT compilation time when the pipeline took the failure up: the first moves of a
    /// process's life compile the migration path (tier 0), which holds back the other relays' failures.
    /// </summary>
    public TimeSpan JitTimeAtFailure { get; }

    /// <summary>Methods compiled so far, then.</summary>
    public long JitMethodsAtFailure { get; }

    /// <summary>The failure in Unix milliseconds, to the tick (for lining up with other processes' clocks).</summary>
    public double FailedAtUnixMilliseconds =>
        (_createdWall - DateTimeOffset.UnixEpoch).TotalMilliseconds - Stopwatch.GetElapsedTime(FailedAt, _created).TotalMilliseconds;

    /// <summary>Records that the continuation was built.</summary>
    public void MarkBuilt() => Built = Stopwatch.GetTimestamp();

    /// <summary>Records that its prefill was sent.</summary>
    public void MarkPrefillSent() => PrefillSent = Stopwatch.GetTimestamp();

    /// <summary>Records that its prefill answered.</summary>
    public void MarkPrefillAnswered() => PrefillAnswered = Stopwatch.GetTimestamp();

    /// <summary>Records that a decode instance was leased.</summary>
    public void MarkDecodeLeased() => DecodeLeased = Stopwatch.GetTimestamp();

    /// <summary>Records that the continuation was sent.</summary>
    public void MarkDecodeSent() => DecodeSent = Stopwatch.GetTimestamp();

    /// <summary>Records that D's headers arrived.</summary>
    public void MarkDecodeHeaders() => DecodeHeaders = Stopwatch.GetTimestamp();

    /// <summary>Records the first relayed event (only the first call counts).</summary>
    public void MarkFirstTokenRelayed()
    {
        if (FirstTokenRelayed != 0)
        {
            return;
        }

        FirstTokenRelayed = Stopwatch.GetTimestamp();
        (ThreadsAtFirstToken, QueuedAtFirstToken) = (ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount);
    }

    /// <summary>Milliseconds from the failure to <paramref name="timestamp"/>, or NaN when the step did not happen.</summary>
    /// <param name="timestamp">One of this timeline's timestamps.</param>
    /// <returns>The milliseconds (negative for steps before the failure).</returns>
    public double SinceFailure(long timestamp) =>
        timestamp == 0 ? double.NaN : (timestamp - FailedAt) * 1000.0 / Stopwatch.Frequency;
}
