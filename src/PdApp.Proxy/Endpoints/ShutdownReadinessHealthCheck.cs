using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Readiness turns unhealthy as soon as shutdown begins, so load balancers stop sending new
/// requests while in-flight streams drain (up to <c>Pd:Proxy:ShutdownTimeoutSeconds</c>). Instance
/// availability is the routing layer's <c>pd-instances</c> check.
/// </summary>
internal sealed class ShutdownReadinessHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public const string Name = "proxy-accepting";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("The proxy is shutting down and draining in-flight requests.")
            : HealthCheckResult.Healthy("Accepting requests."));
}
