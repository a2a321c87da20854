using PdApp.Bench.Measurement;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Load;

/// <summary>
/// Sends a workload to one or more targets under a <see cref="LoadPlan"/>: an open-loop Poisson
/// (or gamma, with burstiness) arrival process (arrivals do not wait for responses; a request waiting for a concurrency slot
/// is not timed until it gets one, as in vLLM's benchmark_serving.py), bounded by a request
/// count or a duration. With several targets the sends are interleaved prompt by prompt
/// (<see cref="InterleavedSchedule"/>) and the rate and concurrency apply per target.
/// </summary>
internal sealed class LoadRunner
{
    private readonly TimeProvider _time;

    /// <summary>Creates a runner on <paramref name="time"/>.</summary>
    public LoadRunner(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Sends the warm-up requests (unmeasured), at most the run's concurrency at a time.</summary>
    /// <returns>The number of warm-up requests that failed.</returns>
    public async Task<int> WarmUpAsync(LoadPlan plan, IReadOnlyList<TargetSlot> slots, Workload workload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(slots);
        ArgumentNullException.ThrowIfNull(workload);
        var failures = 0;
        var parallelism = Math.Max(1, Math.Min(plan.Warmup, plan.MaxConcurrency ?? plan.Warmup));
        var sends = Enumerable.Range(0, plan.Warmup * slots.Count).Select(slot => InterleavedSchedule.At(slot, slots.Count));
        await Parallel.ForEachAsync(
            sends,
            new ParallelOptions { MaxDegreeOfParallelism = parallelism * slots.Count, CancellationToken = cancellationToken },
            async (send, token) =>
            {
                var outcome = await slots[send.Target].Target.SendAsync(workload[send.Prompt], observer: null, token).ConfigureAwait(false);
                if (!outcome.Succeeded)
                {
                    Interlocked.Increment(ref failures);
                }
            }).ConfigureAwait(false);
        return failures;
    }

    /// <summary>Runs the measured part and returns its wall-clock duration (first send to last response).</summary>
    /// <exception cref="OperationCanceledException">The run was aborted; recorders hold what finished.</exception>
    public async Task<TimeSpan> RunAsync(LoadPlan plan, RunProgress progress, Workload workload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(workload);
        var arrivals = new ArrivalProcess(plan.RequestRate * progress.Slots.Count, plan.Seed, plan.Burstiness);
        using var gate = plan.MaxConcurrency is { } limit ? new SemaphoreSlim(limit * progress.Slots.Count) : null;
        var inFlight = new InFlightTracker();
        var start = _time.GetTimestamp();
        try
        {
            await IssueAsync(plan, progress, workload, arrivals, gate, inFlight, start, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Even on abort, wait for the launched requests: they observe the same token and
            // end promptly, and their recorders must be complete before anyone reads them.
            await inFlight.WhenAllAsync().ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return _time.GetElapsedTime(start);
    }

    private async Task IssueAsync(
        LoadPlan plan,
        RunProgress progress,
        Workload workload,
        ArrivalProcess arrivals,
        SemaphoreSlim? gate,
        InFlightTracker inFlight,
        long start,
        CancellationToken cancellationToken)
    {
        var slots = progress.Slots;
        var nextArrival = TimeSpan.Zero;
        for (long slot = 0; ; slot++)
        {
            var (prompt, target) = InterleavedSchedule.At(slot, slots.Count);
            if (plan.NumPrompts is { } count && prompt >= count)
            {
                return;
            }

            if (!arrivals.IsUnlimited)
            {
                // Arrival times are absolute offsets from the start, so timer lateness on a busy
                // machine neither lowers the rate nor, in a --duration run, the number of arrivals:
                // those scheduled inside the window are sent, however late the timer fires.
                nextArrival += arrivals.NextInterval();
                if (plan.Duration is { } window && nextArrival >= window)
                {
                    return;
                }

                var wait = nextArrival - _time.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }
            }
            else if (plan.Duration is { } duration && _time.GetElapsedTime(start) >= duration)
            {
                return;
            }

            // Unpaced runs take the slot before launching so a duration-bound run does not queue
            // an unbounded number of waiting tasks; paced runs queue like vLLM's semaphore.
            var acquired = false;
            if (gate is not null && arrivals.IsUnlimited)
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                acquired = true;
            }

            progress.OnSent();
            inFlight.Track(SendOneAsync(slots[target], workload[prompt], gate, acquired, cancellationToken));
        }
    }

    private static async Task SendOneAsync(TargetSlot slot, BenchRequest request, SemaphoreSlim? gate, bool acquired, CancellationToken cancellationToken)
    {
        try
        {
            if (gate is not null && !acquired)
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                acquired = true;
            }

            var outcome = await slot.Target.SendAsync(request, slot.Recorder, cancellationToken).ConfigureAwait(false);
            slot.Recorder.Record(outcome);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Run aborted: the request is neither a success nor a server failure.
        }
        finally
        {
            if (acquired)
            {
                gate!.Release();
            }
        }
    }
}
