using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Observability.Metrics;

/// <summary>
/// Counts passive-health ejections (<c>pdapp.instance.ejections</c>) by watching
/// <see cref="UpstreamInstance.EjectedUntil"/> once a second, so the routing layer needs no metrics
/// dependency. Each ejection sets a new end time and a new one can only start after the previous
/// ended (see <c>PassiveHealthTracker</c>), so the count is exact while
/// <c>Pd:Proxy:Ejection:BaseEjectionSeconds</c> is at least the one-second period.
/// </summary>
public sealed class EjectionWatcher(IInstanceRegistry registry, InstanceMetrics metrics, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, DateTimeOffset> _counted = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Counts ejections that started since the last check (the loop's body; tests call it directly).</summary>
    public void Check()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var instance in registry.Instances)
            {
                if (instance.EjectedUntil is { } until && until > now
                    && (!_counted.TryGetValue(instance.Name, out var counted) || counted != until))
                {
                    _counted[instance.Name] = until;
                    metrics.Ejected(instance);
                }
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Check();
        }
    }
}
