namespace PdApp.Bench.Load;

/// <summary>
/// Waits for every request a run launched without keeping a task per request alive: a counter
/// and one completion source, so long duration-bound runs use constant memory.
/// </summary>
internal sealed class InFlightTracker
{
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _pending = 1;

    /// <summary>Counts <paramref name="task"/> until it completes.</summary>
    public void Track(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        Interlocked.Increment(ref _pending);
        task.ContinueWith(static (_, state) => ((InFlightTracker)state!).Release(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Completes when every tracked task has completed; call once, after the last <see cref="Track"/>.</summary>
    public Task WhenAllAsync()
    {
        Release();
        return _drained.Task;
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _drained.TrySetResult();
        }
    }
}
