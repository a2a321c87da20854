using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Health;

/// <summary>
/// Readiness (<c>pd-instances</c>): the proxy can serve only with at least one ready decode
/// instance and one ready prefill instance, or decode alone when
/// <c>Pd:Proxy:DecodeOnlyFallback</c> is on. Ready means available and verified by a passing
/// health probe or a served request, so a proxy whose engines are still loading their models
/// (minutes for vLLM) reports not ready. Not tagged <c>live</c>: an empty pool must take the
/// proxy out of rotation, not get it restarted.
/// A singleton that logs readiness once per transition (not ready at Warning with the reason,
/// ready again at Information); the health-check service's own per-probe Error line is filtered
/// out (see <see cref="PdRoutingServiceCollectionExtensions"/>).
/// </summary>
internal sealed partial class PdInstancesHealthCheck(
    IInstanceRegistry registry,
    TimeProvider time,
    IOptions<ReadinessOptions> options,
    IOptions<ActiveHealthCheckOptions> healthOptions,
    ILogger<PdInstancesHealthCheck> logger)
    : IHealthCheck
{
    private const int Unknown = 0;
    private const int Ready = 1;
    private const int NotReady = 2;
    private int _state = Unknown;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // The health-check service's own log category is capped (its per-probe Error line would flood the log), so a
        // failure of this check is logged here, where it is not filtered.
        try
        {
            return Task.FromResult(Check());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckFailed(ex);
            return Task.FromResult(HealthCheckResult.Unhealthy("The readiness check failed; see the proxy's log.", ex));
        }
    }

    private HealthCheckResult Check()
    {
        var prefill = HasReady(PdRole.Prefill);
        var decode = HasReady(PdRole.Decode);
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
            if (Interlocked.Exchange(ref _state, Ready) == NotReady)
            {
                LogReady(message);
            }

            return HealthCheckResult.Healthy(message, data);
        }

        var description = $"No ready {string.Join(" or ", missing)} instance (known: {data["prefill_known"]} prefill, {data["decode_known"]} decode).";
        if (Interlocked.Exchange(ref _state, NotReady) != NotReady)
        {
            LogNotReady(description, DescribeInstances());
        }

        return HealthCheckResult.Unhealthy(description, data: data);
    }

    // Names and states only (decode-0 drained, prefill-0 not verified yet), for the transition log line.
    private string DescribeInstances()
    {
        var now = time.GetUtcNow();
        var states = registry.Instances
            .Select(instance => $"{instance.Name} {InstanceUnavailability.Reason(instance, now) ?? (instance.IsVerified || !healthOptions.Value.Enabled ? "available" : "not verified yet")}")
            .ToList();
        return states.Count == 0 ? "no instance registered" : string.Join(", ", states);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proxy not ready: {Description} Instances: {Instances}")]
    private partial void LogNotReady(string description, string instances);

    [LoggerMessage(Level = LogLevel.Error, Message = "Proxy readiness check failed")]
    private partial void LogCheckFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy ready again: {Description}")]
    private partial void LogReady(string description);

    // Without active health checks nothing would ever verify an idle instance: availability is all there is.
    private bool HasReady(PdRole role)
    {
        var now = time.GetUtcNow();
        var requireVerified = healthOptions.Value.Enabled;
        foreach (var instance in registry.GetInstances(role))
        {
            if (requireVerified ? instance.IsReady(now) : instance.IsAvailable(now))
            {
                return true;
            }
        }

        return false;
    }
}
