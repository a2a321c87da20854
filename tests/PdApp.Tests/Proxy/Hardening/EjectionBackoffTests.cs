using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>The ejection back-off starts over once an instance has stayed in service for a while.</summary>
public sealed class EjectionBackoffTests
{
    [Fact]
    public void InServiceLongerThanTheResetPeriod_NextEjectionIsTheBaseLengthAgain()
    {
        var fixture = new SelectorFixture(
            BalancingPolicyKind.RoundRobin,
            ejection: new EjectionOptions { ConsecutiveFailures = 1, BaseEjectionSeconds = 10, MaxEjectionSeconds = 300, BackoffResetSeconds = 60 });
        var instance = fixture.Add(PdRole.Decode, 1)[0];
        var lengths = new List<double>();

        // Two ejections back to back double; then the instance serves (healthy) for 60 s untouched.
        foreach (var inService in new[] { 0, 0, 60, 0 })
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(inService));
            using (var lease = fixture.Selector.Select(PdRole.Decode, new RoutingContext("r", null))!)
            {
                lease.ReportFailure();
            }

            var length = (instance.EjectedUntil!.Value - fixture.Clock.GetUtcNow()).TotalSeconds;
            lengths.Add(length);
            fixture.Clock.Advance(TimeSpan.FromSeconds(length));
        }

        Assert.Equal([10d, 20d, 10d, 20d], lengths);
    }
}
