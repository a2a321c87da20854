using System.Collections.Concurrent;
using System.Diagnostics;

namespace PdApp.Tests.Observability.Infrastructure;

/// <summary>
/// Collects the activities of the proxy (<c>PdApp.Proxy</c>), of ASP.NET Core servers (proxy and
/// simulators alike) and of HttpClient, all sampled, as an OpenTelemetry tracer provider would.
/// Other tests run in parallel, so callers filter by trace id.
/// </summary>
public sealed class ActivityCollector : IDisposable
{
    private static readonly HashSet<string> Sources = ["PdApp.Proxy", "Microsoft.AspNetCore", "System.Net.Http"];

    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    /// <summary>Starts listening.</summary>
    public ActivityCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => Sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The stopped activities of <paramref name="traceId"/>.</summary>
    /// <param name="traceId">The trace.</param>
    /// <returns>Its activities.</returns>
    public IReadOnlyList<Activity> InTrace(ActivityTraceId traceId) => [.. _stopped.Where(a => a.TraceId == traceId)];

    /// <summary>Stopped activities matching <paramref name="predicate"/>.</summary>
    /// <param name="predicate">The filter.</param>
    /// <returns>The activities.</returns>
    public IReadOnlyList<Activity> Where(Func<Activity, bool> predicate) => [.. _stopped.Where(predicate)];

    /// <summary>Waits until <paramref name="condition"/> holds.</summary>
    /// <param name="condition">The condition on all stopped activities.</param>
    /// <returns>A task.</returns>
    public async Task WaitUntilAsync(Func<IReadOnlyList<Activity>, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition([.. _stopped]) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
