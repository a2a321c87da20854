using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Health;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Tests.Proxy.Routing;

public sealed class RoutingMetricsTests
{
    [Fact]
    public void EjectionsAndUnhealthyTransitions_AreCountedWhereTheyHappen_PerInstance()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = provider.GetRequiredService<IMeterFactory>();
        var clock = new ManualClock();
        var metrics = new RoutingMetrics(meterFactory);
        var tracker = new PassiveHealthTracker(Options.Create(new EjectionOptions { ConsecutiveFailures = 1 }), clock, NullLogger<PassiveHealthTracker>.Instance, metrics);
        var decode = new UpstreamInstance("decode-0", PdRole.Decode, new Uri("http://127.0.0.1:2/"), InstanceSource.Configuration);
        tracker.OnFailure(decode);

        var measurements = new List<(string Instrument, long Value, string Instance, string Role)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == metrics.Meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Add(Describe(instrument, value, tags)));
        listener.Start();
        tracker.OnSuccess(decode);
        clock.Advance(TimeSpan.FromMinutes(1));
        tracker.OnFailure(decode);
        metrics.RecordUnhealthy(decode);

        Assert.Equal(
            [("pdapp.instance.ejections", 1L, "decode-0", "decode"), ("pdapp.instance.unhealthy_transitions", 1L, "decode-0", "decode")],
            measurements);
    }

    private static (string, long, string, string) Describe(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string instance = string.Empty, role = string.Empty;
        foreach (var tag in tags)
        {
            if (tag.Key == "instance")
            {
                instance = (string)tag.Value!;
            }
            else if (tag.Key == "role")
            {
                role = (string)tag.Value!;
            }
        }

        return (instrument.Name, value, instance, role);
    }
}
