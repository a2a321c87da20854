using PdApp.Bench.Measurement;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Targets;

/// <summary>
/// Runs one request under the per-request timeout and turns the timeout (but not a run abort)
/// into a <see cref="ErrorKinds.Timeout"/> outcome.
/// </summary>
internal static class TimeoutScope
{
    /// <summary>Runs <paramref name="send"/> with a token that fires after <paramref name="timeout"/> or on run abort.</summary>
    public static async Task<RequestOutcome> RunAsync(
        TimeSpan timeout,
        BenchRequest request,
        TimeProvider time,
        Func<CancellationToken, long, Task<RequestOutcome>> send,
        CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var start = time.GetTimestamp();
        try
        {
            return await send(limit.Token, start).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var elapsed = StreamTimingReader.ToMicroseconds(time.GetTimestamp() - start, time);
            return RequestOutcome.Failed(ErrorKinds.Timeout, $"no complete response within {timeout.TotalSeconds:0.###} s", elapsed, request.PromptTokens);
        }
    }
}
