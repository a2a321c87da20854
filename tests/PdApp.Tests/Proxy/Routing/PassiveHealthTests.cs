using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Tests.Proxy.Routing;

public sealed class PassiveHealthTests
{
    private static SelectorFixture CreateFixture() => new(
        BalancingPolicyKind.RoundRobin,
        ejection: new EjectionOptions { ConsecutiveFailures = 3, BaseEjectionSeconds = 10, MaxEjectionSeconds = 30 });

    private static void Fail(SelectorFixture fixture, PdRole role, int times)
    {
        for (var i = 0; i < times; i++)
        {
            using var lease = fixture.Selector.Select(role, new RoutingContext($"r{i}", null))!;
            lease.ReportFailure();
        }
    }

    [Fact]
    public void ConsecutiveFailures_EjectForTheBaseTime()
    {
        var fixture = CreateFixture();
        var instance = fixture.Add(PdRole.Decode, 1)[0];

        Fail(fixture, PdRole.Decode, 2);
        Assert.True(fixture.Selector.HasAvailable(PdRole.Decode));

        Fail(fixture, PdRole.Decode, 1);
        Assert.Equal(fixture.Clock.GetUtcNow().AddSeconds(10), instance.EjectedUntil);
        Assert.False(fixture.Selector.HasAvailable(PdRole.Decode));
        Assert.Null(fixture.Selector.Select(PdRole.Decode, new RoutingContext("r", null)));

        fixture.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(fixture.Selector.HasAvailable(PdRole.Decode));
    }

    [Fact]
    public void RepeatedEjections_DoubleUpToTheMaximum()
    {
        var fixture = CreateFixture();
        var instance = fixture.Add(PdRole.Decode, 1)[0];
        var lengths = new List<double>();

        for (var round = 0; round < 4; round++)
        {
            Fail(fixture, PdRole.Decode, 3);
            var length = (instance.EjectedUntil!.Value - fixture.Clock.GetUtcNow()).TotalSeconds;
            lengths.Add(length);
            fixture.Clock.Advance(TimeSpan.FromSeconds(length));
        }

        Assert.Equal([10d, 20d, 30d, 30d], lengths);
    }

    [Fact]
    public void Success_ResetsFailureCountAndBackOff()
    {
        var fixture = CreateFixture();
        var instance = fixture.Add(PdRole.Decode, 1)[0];
        Fail(fixture, PdRole.Decode, 3);
        fixture.Clock.Advance(TimeSpan.FromSeconds(10));

        using (var ok = fixture.Selector.Select(PdRole.Decode, new RoutingContext("ok", null))!)
        {
            ok.ReportSuccess();
        }

        // Two failures, a success, two failures: never three in a row, so no ejection.
        Fail(fixture, PdRole.Decode, 2);
        using (var ok = fixture.Selector.Select(PdRole.Decode, new RoutingContext("ok", null))!)
        {
            ok.ReportSuccess();
        }

        Fail(fixture, PdRole.Decode, 2);
        Assert.True(fixture.Selector.HasAvailable(PdRole.Decode));

        // The next ejection starts from the base time again.
        Fail(fixture, PdRole.Decode, 1);
        Assert.Equal(fixture.Clock.GetUtcNow().AddSeconds(10), instance.EjectedUntil);
    }

    [Fact]
    public void FailuresWhileEjected_DoNotExtendTheEjection()
    {
        var fixture = CreateFixture();
        var instance = fixture.Add(PdRole.Decode, 1)[0];
        var inFlight = Enumerable.Range(0, 6).Select(i => fixture.Selector.Select(PdRole.Decode, new RoutingContext($"r{i}", null))!).ToList();

        // Six calls that were already running fail one after the other.
        foreach (var lease in inFlight)
        {
            lease.ReportFailure();
            lease.Dispose();
        }

        Assert.Equal(fixture.Clock.GetUtcNow().AddSeconds(10), instance.EjectedUntil);
    }

    [Fact]
    public void EjectedInstance_IsSkippedWhileOthersServe()
    {
        var fixture = CreateFixture();
        var instances = fixture.Add(PdRole.Prefill, 2);
        for (var i = 0; i < 3; i++)
        {
            fixture.Tracker.OnFailure(instances[0]);
        }

        var picks = Enumerable.Range(0, 10).Select(_ => fixture.Pick(PdRole.Prefill)).Distinct().ToList();

        Assert.Equal(["prefill-1"], picks);
    }
}
