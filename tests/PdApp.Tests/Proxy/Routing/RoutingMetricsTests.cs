using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Health;
using PdApp.Proxy.Routing.Load;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Tests.Proxy.Routing;

/// <summary>The routing layer reports its health events once, where they happen, to its observer.</summary>
public sealed class RoutingMetricsTests
{
    [Fact]
    public void Ejections_AreReportedOncePerEjection_ToTheRoutingObserver()
    {
        var clock = new ManualClock();
        var observer = new RecordingRoutingObserver();
        var tracker = new PassiveHealthTracker(Options.Create(new EjectionOptions { ConsecutiveFailures = 1 }), clock, NullLogger<PassiveHealthTracker>.Instance, observer);
        var decode = new UpstreamInstance("decode-0", PdRole.Decode, new Uri("http://127.0.0.1:2/"), InstanceSource.Configuration);

        tracker.OnFailure(decode);
        tracker.OnSuccess(decode);
        clock.Advance(TimeSpan.FromMinutes(1));
        tracker.OnFailure(decode);

        Assert.Equal(["ejected decode-0", "ejected decode-0"], observer.Events);
    }

    [Fact]
    public void WhileAnEjectionIsReported_OtherCallsOutcomesOnTheSameInstanceAreNotHeld()
    {
        // A dying decode fails all its streams at once; each reports here before it migrates. The
        // ejection's side effects (outage token, observer, log) must not hold the others' reports.
        var clock = new ManualClock();
        var decode = new UpstreamInstance("decode-0", PdRole.Decode, new Uri("http://127.0.0.1:2/"), InstanceSource.Configuration);
        var observer = new ReportingDuringEjectionObserver();
        var tracker = new PassiveHealthTracker(Options.Create(new EjectionOptions { ConsecutiveFailures = 1 }), clock, NullLogger<PassiveHealthTracker>.Instance, observer);
        observer.Report = () =>
        {
            tracker.OnFailure(decode);
            tracker.OnSuccess(decode);
        };

        tracker.OnFailure(decode);

        Assert.True(observer.OtherReportsReturned, "another thread's OnFailure/OnSuccess for the instance waited for the ejection's report to end");
        Assert.Equal(clock.GetUtcNow().AddSeconds(new EjectionOptions().BaseEjectionSeconds), decode.EjectedUntil);
    }

    [Fact]
    public void InstanceMetrics_CountsEachRoutingEventPerInstanceAndRole()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var registry = new InstanceRegistry(NullLogger<InstanceRegistry>.Instance);
        var metrics = new InstanceMetrics(
            provider.GetRequiredService<IMeterFactory>(), registry, Options.Create(new LoadScrapeOptions()), new ManualClock());
        var prefill = new UpstreamInstance("prefill-0", PdRole.Prefill, new Uri("http://127.0.0.1:1/"), InstanceSource.Configuration);
        var measurements = new List<(string, long, string?, string?)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var all = tags.ToArray();
            measurements.Add((instrument.Name, value, (string?)all.Single(t => t.Key == "instance").Value, (string?)all.Single(t => t.Key == "role").Value));
        });
        listener.Start();

        IRoutingObserver observer = metrics;
        observer.InstanceEjected(prefill);
        observer.InstanceTurnedUnhealthy(prefill);

        Assert.Equal(
            [("pdapp.instance.ejections", 1L, "prefill-0", "prefill"), ("pdapp.instance.unhealthy_transitions", 1L, "prefill-0", "prefill")],
            measurements);
    }

    // Reports other outcomes for the ejected instance from another thread while the ejection is being reported.
    private sealed class ReportingDuringEjectionObserver : IRoutingObserver
    {
        public Action? Report { get; set; }

        public bool OtherReportsReturned { get; private set; }

        public void InstanceEjected(UpstreamInstance instance) =>
            OtherReportsReturned = Task.Run(Report!).Wait(TimeSpan.FromSeconds(10));

        public void InstanceTurnedUnhealthy(UpstreamInstance instance)
        {
        }

        public void LoadScraped(UpstreamInstance instance, double seconds)
        {
        }

        public void LoadScrapeFailed(UpstreamInstance instance, string reason)
        {
        }
    }

    private sealed class RecordingRoutingObserver : IRoutingObserver
    {
        public List<string> Events { get; } = [];

        public void InstanceEjected(UpstreamInstance instance) => Events.Add("ejected " + instance.Name);

        public void InstanceTurnedUnhealthy(UpstreamInstance instance) => Events.Add("unhealthy " + instance.Name);

        public void LoadScraped(UpstreamInstance instance, double seconds) => Events.Add("scraped " + instance.Name);

        public void LoadScrapeFailed(UpstreamInstance instance, string reason) => Events.Add("scrape failed " + instance.Name);
    }
}
