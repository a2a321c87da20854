using PdApp.Bench.Measurement;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Load;

/// <summary>
/// The single unmeasured test request vLLM's benchmark sends before anything is timed: a
/// misconfigured target stops the run at once with the request's error, and connection set-up and
/// JIT compilation are not charged to whichever target goes first. While the server only is not
/// ready yet (connection refused, 502/503/504) the request is retried every few seconds up to
/// the ready-check timeout, as vLLM's <c>--ready-check-timeout-sec</c>.
/// </summary>
internal sealed class InitialTestRequest
{
    /// <summary>Time between two tries while the server is not ready (vLLM's retry interval).</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time;

    /// <summary>Creates the check on <paramref name="time"/>.</summary>
    public InitialTestRequest(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Sends <paramref name="request"/> to <paramref name="target"/>, retrying while the server is not ready.</summary>
    /// <param name="target">The target.</param>
    /// <param name="request">The test prompt (the workload's first).</param>
    /// <param name="readyTimeout">How long to retry a server that is not ready.</param>
    /// <param name="onWaiting">Called once when the first try finds the server not ready.</param>
    /// <param name="cancellationToken">Ctrl+C.</param>
    /// <returns>The last try's outcome: succeeded, failed for a reason other than readiness, or still not ready at the timeout.</returns>
    public async Task<RequestOutcome> SendAsync(
        IBenchTarget target,
        BenchRequest request,
        TimeSpan readyTimeout,
        Action<RequestOutcome>? onWaiting,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var last = false;
        for (var attempt = 0; ; attempt++)
        {
            var outcome = await target.SendAsync(request, observer: null, cancellationToken).ConfigureAwait(false);
            var remaining = readyTimeout - _time.GetElapsedTime(started);
            if (outcome.Succeeded || !ErrorKinds.IsNotReady(outcome.ErrorKind) || last || remaining <= TimeSpan.Zero)
            {
                return outcome;
            }

            if (attempt == 0)
            {
                onWaiting?.Invoke(outcome);
            }

            // The try after a wait for the rest of the timeout is the last one: a timer that fires a
            // moment early must not turn the end of the timeout into a burst of tries.
            last = remaining <= RetryInterval;
            await Task.Delay(last ? remaining : RetryInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
