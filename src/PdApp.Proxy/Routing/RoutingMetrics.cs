using System.Diagnostics.Metrics;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>
/// Health events of the routing layer (meter <see cref="MeterName"/>), counted where they happen:
/// passive-health ejections and active health checks turning an instance unhealthy. Tags
/// <c>instance</c> and <c>role</c>, as the <c>pdapp.instance</c> gauges (in-flight requests,
/// availability, scraped load) that the observability layer publishes.
/// </summary>
public sealed class RoutingMetrics
{
    /// <summary>The meter name (exported by <c>AddPdObservability</c>).</summary>
    public const string MeterName = "pdapp.instance.health";

    private readonly Counter<long> _ejections;
    private readonly Counter<long> _unhealthy;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The meter factory.</param>
    public RoutingMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _ejections = Meter.CreateCounter<long>(
            "pdapp.instance.ejections",
            unit: "{ejection}",
            description: "Passive-health ejections after consecutive failed calls.");
        _unhealthy = Meter.CreateCounter<long>(
            "pdapp.instance.unhealthy_transitions",
            unit: "{transition}",
            description: "Active health checks turning an instance unhealthy.");
    }

    /// <summary>The meter (tests listen to this instance).</summary>
    public Meter Meter { get; }

    internal void RecordEjection(UpstreamInstance instance) => _ejections.Add(1, Tags(instance));

    internal void RecordUnhealthy(UpstreamInstance instance) => _unhealthy.Add(1, Tags(instance));

    private static KeyValuePair<string, object?>[] Tags(UpstreamInstance instance) =>
    [
        new("instance", instance.Name),
        new("role", RoleTag(instance.Role)),
    ];

    private static string RoleTag(PdRole role) => role switch
    {
        PdRole.Prefill => "prefill",
        PdRole.Decode => "decode",
        _ => "both",
    };
}
