using System.Diagnostics.Metrics;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>
/// The routing layer's metrics (meter <see cref="MeterName"/>): per-instance in-flight requests and
/// availability as gauges read from the registry snapshot, and counters of ejections and health
/// transitions. Tags: <c>pd.instance</c>, <c>pd.role</c>.
/// </summary>
public sealed class RoutingMetrics
{
    /// <summary>The meter name to export (pass it to <c>AddServiceDefaults</c>).</summary>
    public const string MeterName = "PdApp.Proxy.Routing";

    private readonly Counter<long> _ejections;
    private readonly Counter<long> _unhealthy;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The meter factory.</param>
    /// <param name="registry">The registry the gauges read.</param>
    /// <param name="time">The clock availability is judged by.</param>
    public RoutingMetrics(IMeterFactory meterFactory, IInstanceRegistry registry, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(time);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge(
            "pdapp.proxy.instance.outstanding",
            () => registry.Instances.Select(i => new Measurement<int>(i.Outstanding, Tags(i))),
            unit: "{request}",
            description: "Requests in flight through this proxy, per upstream instance.");
        meter.CreateObservableGauge(
            "pdapp.proxy.instance.available",
            () =>
            {
                var now = time.GetUtcNow();
                return registry.Instances.Select(i => new Measurement<int>(i.IsAvailable(now) ? 1 : 0, Tags(i)));
            },
            unit: "{instance}",
            description: "1 when the instance gets new requests (healthy, not draining, not ejected), else 0.");
        _ejections = meter.CreateCounter<long>(
            "pdapp.proxy.instance.ejections",
            unit: "{ejection}",
            description: "Passive-health ejections after consecutive failed calls.");
        _unhealthy = meter.CreateCounter<long>(
            "pdapp.proxy.instance.unhealthy_transitions",
            unit: "{transition}",
            description: "Active health checks turning an instance unhealthy.");
    }

    internal void RecordEjection(UpstreamInstance instance) => _ejections.Add(1, Tags(instance));

    internal void RecordUnhealthy(UpstreamInstance instance) => _unhealthy.Add(1, Tags(instance));

    private static KeyValuePair<string, object?>[] Tags(UpstreamInstance instance) =>
    [
        new("pd.instance", instance.Name),
        new("pd.role", RoleTag(instance.Role)),
    ];

    private static string RoleTag(PdRole role) => role switch
    {
        PdRole.Prefill => "prefill",
        PdRole.Decode => "decode",
        _ => "both",
    };
}
