using Microsoft.Extensions.Hosting;

namespace PdApp.Proxy.Routing.Health;

/// <summary>
/// Removes instances marked <see cref="UpstreamInstance.RemoveWhenDrained"/> once their last
/// in-flight request has ended (<c>DELETE /admin/instances/{name}?drain=true</c>).
/// </summary>
internal sealed class DrainedInstanceReaper(IInstanceRegistry registry, TimeProvider time) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Reap();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    internal void Reap()
    {
        foreach (var instance in registry.Instances)
        {
            if (instance.RemoveWhenDrained && instance.Outstanding == 0 && ReferenceEquals(registry.Find(instance.Name), instance))
            {
                registry.Remove(instance.Name);
            }
        }
    }
}
