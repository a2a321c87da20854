using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Health;

/// <summary>
/// Readiness (<c>pd-instances</c>): the proxy can serve only with at least one available decode
/// instance and one available prefill instance, or decode alone when
/// <c>Pd:Proxy:DecodeOnlyFallback</c> is on. Not tagged <c>live</c>: an empty pool must take the
/// proxy out of rotation, not get it restarted.
/// </summary>
internal sealed class PdInstancesHealthCheck(IInstanceSelector selector, IInstanceRegistry registry, IOptions<ReadinessOptions> options)
    : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var prefill = selector.HasAvailable(PdRole.Prefill);
        var decode = selector.HasAvailable(PdRole.Decode);
        var data = new Dictionary<string, object>
        {
            ["prefill_known"] = registry.GetInstances(PdRole.Prefill).Count,
            ["decode_known"] = registry.GetInstances(PdRole.Decode).Count,
            ["prefill_available"] = prefill,
            ["decode_available"] = decode,
        };

        var missing = new List<string>(2);
        if (!prefill && !options.Value.DecodeOnlyFallback)
        {
            missing.Add("prefill");
        }

        if (!decode)
        {
            missing.Add("decode");
        }

        if (missing.Count == 0)
        {
            var message = prefill
                ? "At least one prefill and one decode instance are available."
                : "No prefill instance is available; decode-only fallback serves requests.";
            return Task.FromResult(HealthCheckResult.Healthy(message, data));
        }

        return Task.FromResult(HealthCheckResult.Unhealthy(
            $"No available {string.Join(" or ", missing)} instance (known: {data["prefill_known"]} prefill, {data["decode_known"]} decode).",
            data: data));
    }
}
