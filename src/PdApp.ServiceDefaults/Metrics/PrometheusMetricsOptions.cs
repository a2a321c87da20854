namespace PdApp.ServiceDefaults.Metrics;

/// <summary>What the Prometheus exporter listens to and how it aggregates (set in code by the service, not bound).</summary>
public sealed class PrometheusMetricsOptions
{
    /// <summary>OpenTelemetry's default histogram buckets, for histograms that declare none and have no override.</summary>
    public static IReadOnlyList<double> DefaultBoundaries { get; } = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    /// <summary>
    /// The framework meters exported by default, those OpenTelemetry's ASP.NET Core, HttpClient and runtime
    /// instrumentations enable: ASP.NET Core's hosting, Kestrel, routing and the rest, HttpClient's and DNS's
    /// client metrics, and the runtime's (GC, JIT, thread pool, process).
    /// </summary>
    public static IReadOnlyList<string> FrameworkMeters { get; } =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing", "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Authentication", "Microsoft.AspNetCore.Authorization", "Microsoft.AspNetCore.Identity",
        "Microsoft.AspNetCore.MemoryPool", "Microsoft.AspNetCore.Components", "Microsoft.AspNetCore.Components.Lifecycle",
        "Microsoft.AspNetCore.Components.Server.Circuits", "Microsoft.AspNetCore.SignalR.Server",
        "System.Net.Http", "System.Net.NameResolution", "System.Runtime",
    ];

    /// <summary>Names of the meters whose instruments are exported (exact names).</summary>
    public ISet<string> Meters { get; } = new HashSet<string>(FrameworkMeters, StringComparer.Ordinal);

    /// <summary>
    /// Instruments never enabled, by name; a trailing <c>*</c> matches any suffix. A dropped instrument costs
    /// nothing per measurement: the listener never subscribes to it.
    /// </summary>
    public IList<string> DroppedInstruments { get; } = [];

    /// <summary>Histogram bucket upper bounds by instrument name, over the instrument's own advice.</summary>
    public IDictionary<string, double[]> HistogramBoundaries { get; } = new Dictionary<string, double[]>(StringComparer.Ordinal);

    /// <summary>
    /// The most series (tag sets) kept per instrument, 2000 as OpenTelemetry's default. Past it, measurements
    /// with a new tag set add to one series labelled <c>otel_metric_overflow="true"</c>; series already kept go on.
    /// </summary>
    public int CardinalityLimit { get; set; } = 2000;

    /// <summary>Whether <paramref name="instrumentName"/> is in <see cref="DroppedInstruments"/>.</summary>
    /// <param name="instrumentName">The instrument's name.</param>
    /// <returns>Whether it is dropped.</returns>
    public bool IsDropped(string instrumentName)
    {
        ArgumentNullException.ThrowIfNull(instrumentName);
        foreach (var pattern in DroppedInstruments)
        {
            var matches = pattern.EndsWith('*')
                ? instrumentName.StartsWith(pattern[..^1], StringComparison.Ordinal)
                : string.Equals(instrumentName, pattern, StringComparison.Ordinal);
            if (matches)
            {
                return true;
            }
        }

        return false;
    }
}
