using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Load;

namespace PdApp.Proxy.Observability.Metrics;

/// <summary>
/// The meter <c>pdapp.instance</c>: per-instance gauges labelled <c>instance</c> and <c>role</c>,
/// read from the registry when the exporter collects: this proxy's requests in flight, the
/// engine's own load as last scraped (so the dashboard charts load for real vLLM containers
/// too), and the routing state (available, draining, ejected). Plus the routing layer's health
/// events (ejections, active checks turning an instance unhealthy), counted where they happen, and
/// scrape errors and durations.
/// </summary>
public sealed class InstanceMetrics : IRoutingObserver
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "pdapp.instance";

    private readonly IInstanceRegistry _registry;
    private readonly TimeProvider _time;
    private readonly TimeSpan _staleAfter;
    private readonly Counter<long> _scrapeErrors;
    private readonly Histogram<double> _scrapeDuration;
    private readonly Counter<long> _ejections;
    private readonly Counter<long> _unhealthy;
    private readonly Counter<long> _registrationsRejected;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    /// <param name="registry">The instances.</param>
    /// <param name="options">The scrape options (staleness).</param>
    /// <param name="time">The clock.</param>
    public InstanceMetrics(IMeterFactory meterFactory, IInstanceRegistry registry, IOptions<LoadScrapeOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _registry = registry;
        _time = time;
        _staleAfter = options.Value.StaleAfter;
        Meter = meterFactory.Create(MeterName);

        Meter.CreateObservableGauge("pdapp.instance.requests_outstanding", ObserveOutstanding, "{request}",
            "Requests this proxy has in flight on the instance.");
        Meter.CreateObservableGauge("pdapp.instance.requests_running", () => ObserveLoad(l => l.Running), "{request}",
            "The engine's vllm:num_requests_running, as last scraped.");
        Meter.CreateObservableGauge("pdapp.instance.requests_waiting", () => ObserveLoad(l => l.Waiting), "{request}",
            "The engine's vllm:num_requests_waiting, as last scraped.");
        Meter.CreateObservableGauge("pdapp.instance.kv_cache_usage", () => ObserveLoad(l => l.KvCacheUsage), "1",
            "The engine's vllm:kv_cache_usage_perc (0 to 1), as last scraped.");
        Meter.CreateObservableGauge("pdapp.instance.available", () => ObserveState(i => i.IsAvailable(_time.GetUtcNow())), "1",
            "1 when new requests may be sent to the instance (healthy, not draining, not ejected).");
        Meter.CreateObservableGauge("pdapp.instance.draining", () => ObserveState(i => i.IsDraining), "1",
            "1 while the instance is drained through the admin API.");
        Meter.CreateObservableGauge("pdapp.instance.ejected", () => ObserveState(i => i.EjectedUntil is { } until && until > _time.GetUtcNow()), "1",
            "1 while passive health checking has ejected the instance.");
        _scrapeErrors = Meter.CreateCounter<long>("pdapp.instance.load_scrape.errors", "{scrape}",
            "Failed scrapes of an instance's /metrics, by reason.");
        _scrapeDuration = Meter.CreateHistogram<double>("pdapp.instance.load_scrape.duration", "s",
            "Time to fetch and parse an instance's /metrics.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _ejections = Meter.CreateCounter<long>("pdapp.instance.ejections", "{ejection}",
            "Passive-health ejections after consecutive failed calls.");
        _unhealthy = Meter.CreateCounter<long>("pdapp.instance.unhealthy_transitions", "{transition}",
            "Active health checks turning an instance unhealthy.");
        _registrationsRejected = Meter.CreateCounter<long>("pdapp.instance.registrations.rejected", "{registration}",
            "P2pNccl registrations refused (address not allowed, unsigned, bad signature), by reason.");
    }

    /// <summary>The meter (tests listen to this instance).</summary>
    public Meter Meter { get; }

    /// <inheritdoc />
    public void LoadScrapeFailed(UpstreamInstance instance, string reason)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var tags = Tags(instance);
        tags.Add("reason", reason);
        _scrapeErrors.Add(1, tags);
    }

    /// <inheritdoc />
    public void LoadScraped(UpstreamInstance instance, double seconds)
    {
        ArgumentNullException.ThrowIfNull(instance);
        _scrapeDuration.Record(seconds, Tags(instance));
    }

    /// <inheritdoc />
    public void InstanceEjected(UpstreamInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        _ejections.Add(1, Tags(instance));
    }

    /// <inheritdoc />
    public void RegistrationRejected(string reason) =>
        _registrationsRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <inheritdoc />
    public void InstanceTurnedUnhealthy(UpstreamInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        _unhealthy.Add(1, Tags(instance));
    }

    private IEnumerable<Measurement<int>> ObserveOutstanding()
    {
        foreach (var instance in _registry.Instances)
        {
            yield return new Measurement<int>(instance.Outstanding, Tags(instance));
        }
    }

    private IEnumerable<Measurement<double>> ObserveLoad(Func<InstanceLoad, double> read)
    {
        var now = _time.GetUtcNow();
        foreach (var instance in _registry.Instances)
        {
            // A stale reading is left out rather than shown as if current.
            if (instance.Load is { } load && now - load.ObservedAt <= _staleAfter)
            {
                yield return new Measurement<double>(read(load), Tags(instance));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveState(Func<UpstreamInstance, bool> read)
    {
        foreach (var instance in _registry.Instances)
        {
            yield return new Measurement<int>(read(instance) ? 1 : 0, Tags(instance));
        }
    }

    private static TagList Tags(UpstreamInstance instance) =>
        new() { { "instance", instance.Name }, { "role", instance.Role.ToString().ToLowerInvariant() } };
}
