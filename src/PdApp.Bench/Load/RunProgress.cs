namespace PdApp.Bench.Load;

/// <summary>Live counters of a run, read by the progress display while requests are in flight.</summary>
internal sealed class RunProgress
{
    private long _sent;

    /// <summary>Creates progress for a run.</summary>
    /// <param name="title">What is running (e.g. the concurrency level).</param>
    /// <param name="slots">The targets and their recorders.</param>
    /// <param name="totalRequests">Requests the run will send over all targets, or null when time-bound.</param>
    /// <param name="duration">The run's time bound, or null.</param>
    public RunProgress(string title, IReadOnlyList<TargetSlot> slots, long? totalRequests, TimeSpan? duration)
    {
        Title = title;
        Slots = slots;
        TotalRequests = totalRequests;
        Duration = duration;
    }

    /// <summary>What is running.</summary>
    public string Title { get; }

    /// <summary>The targets and their recorders.</summary>
    public IReadOnlyList<TargetSlot> Slots { get; }

    /// <summary>Requests the run sends in all, or null when time-bound.</summary>
    public long? TotalRequests { get; }

    /// <summary>The run's time bound, or null.</summary>
    public TimeSpan? Duration { get; }

    /// <summary>Requests sent so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Requests finished so far (succeeded or failed).</summary>
    public long Finished => Slots.Sum(slot => slot.Recorder.Completed + slot.Recorder.Failed);

    /// <summary>Output tokens so far.</summary>
    public long OutputTokens => Slots.Sum(slot => slot.Recorder.OutputTokens);

    /// <summary>Failures so far.</summary>
    public long Failed => Slots.Sum(slot => slot.Recorder.Failed);

    internal void OnSent() => Interlocked.Increment(ref _sent);
}
