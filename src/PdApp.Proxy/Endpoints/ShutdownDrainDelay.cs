using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Holds the listener open for <c>Pd:Proxy:ShutdownDrainDelaySeconds</c> when shutdown begins:
/// <see cref="ShutdownReadinessHealthCheck"/> already answers 503 then, and an orchestrator can only
/// read that while <c>/health</c> still accepts connections. Runs before any hosted service (Kestrel
/// included) stops; requests keep being served meanwhile. It raises <c>ApplicationStopping</c>
/// itself, which the host would raise only after this delay.
/// </summary>
internal sealed class ShutdownDrainDelay(IOptions<ProxyOptions> options, IHostApplicationLifetime lifetime) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var delay = options.Value.EffectiveShutdownDrainDelaySeconds;
        if (delay <= 0)
        {
            return;
        }

        // The host signals ApplicationStopping only after every StoppingAsync: signal it now, so
        // readiness turns unhealthy (and the drain deadline starts) while the listener is still open.
        lifetime.StopApplication();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(delay), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's deadline (or a forced stop) ends the delay early.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
