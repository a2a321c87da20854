using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Disaggregation;
using PdApp.Proxy.Options;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// PD-aware readiness for <c>/health</c>: ready only while a decode instance and a prefill
/// instance are available (or decode alone, when decode-only fallback is on and the connector
/// allows it), and not while the proxy is shutting down, so load balancers stop sending new
/// requests during the drain.
/// </summary>
internal sealed class PdReadinessHealthCheck(
    IInstanceSelector selector,
    DisaggregationFlow flow,
    IOptions<ProxyOptions> options,
    IHostApplicationLifetime lifetime) : IHealthCheck
{
    public const string Name = "pd-instances";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The proxy is shutting down."));
        }

        var decode = selector.HasAvailable(PdRole.Decode);
        var prefill = selector.HasAvailable(PdRole.Prefill);
        var decodeAlone = options.Value.Disaggregation.DecodeOnlyFallback && flow.Capabilities.DecodeCanPrefillAlone;
        var data = new Dictionary<string, object> { ["prefill_available"] = prefill, ["decode_available"] = decode };
        if (!decode)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("No decode instance is available.", data: data));
        }

        if (!prefill && !decodeAlone)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("No prefill instance is available.", data: data));
        }

        return Task.FromResult(prefill
            ? HealthCheckResult.Healthy("Prefill and decode instances are available.", data)
            : HealthCheckResult.Degraded("No prefill instance: serving with decode only.", data: data));
    }
}
