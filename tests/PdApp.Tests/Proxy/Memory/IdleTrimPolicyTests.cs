using Microsoft.Extensions.Time.Testing;
using PdApp.Proxy.Memory;

namespace PdApp.Tests.Proxy.Memory;

/// <summary>
/// When the idle memory trim may run (<c>Pd:Proxy:Memory</c>): only after traffic, once nothing has
/// been in flight or started for <c>IdleSeconds</c>, and not again within <c>MinIntervalSeconds</c>.
/// </summary>
public sealed class IdleTrimPolicyTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    private static IdleTrimPolicy Create(FakeTimeProvider time, double minIntervalSeconds = 300) =>
        new(new MemoryOptions { IdleSeconds = Idle.TotalSeconds, MinIntervalSeconds = minIntervalSeconds }, time);

    [Fact]
    public void AfterTraffic_TrimsOnceIdleForIdleSeconds()
    {
        var time = new FakeTimeProvider();
        var policy = Create(time);

        Assert.False(policy.Observe(inFlight: 1, started: 1));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(policy.Observe(inFlight: 0, started: 1)); // idle for 5 s only
        time.Advance(Idle - TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.False(policy.Observe(inFlight: 0, started: 1));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(policy.Observe(inFlight: 0, started: 1));
    }

    [Fact]
    public void WhileARequestIsInFlight_NeverTrims()
    {
        var time = new FakeTimeProvider();
        var policy = Create(time);

        for (var i = 0; i < 1000; i++)
        {
            Assert.False(policy.Observe(inFlight: 1, started: 1));
            time.Advance(policy.CheckPeriod);
        }
    }

    [Fact]
    public void ShortRequestsBetweenChecks_PostponeTheTrim()
    {
        var time = new FakeTimeProvider();
        var policy = Create(time);
        Assert.False(policy.Observe(inFlight: 0, started: 1));

        // Each check finds nothing in flight, but requests started since the previous one: not idle.
        for (var started = 2; started < 200; started++)
        {
            time.Advance(policy.CheckPeriod);
            Assert.False(policy.Observe(inFlight: 0, started: started));
        }

        time.Advance(Idle);
        Assert.True(policy.Observe(inFlight: 0, started: 199));
    }

    [Fact]
    public void WithoutTraffic_NeverTrims()
    {
        var time = new FakeTimeProvider();
        var policy = Create(time);

        time.Advance(TimeSpan.FromHours(1));
        Assert.False(policy.Observe(inFlight: 0, started: 0));
    }

    [Fact]
    public void AfterATrim_TrimsAgainOnlyAfterNewTrafficAndMinInterval()
    {
        var time = new FakeTimeProvider();
        var policy = Create(time, minIntervalSeconds: 300);
        Assert.False(policy.Observe(inFlight: 1, started: 1));
        time.Advance(Idle);
        Assert.True(policy.Observe(inFlight: 0, started: 1));
        policy.Trimmed();

        // No traffic since: no second trim, however long the proxy stays idle.
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(policy.Observe(inFlight: 0, started: 1));

        // Traffic, then idle again, but within the minimum interval of the last trim.
        policy.Trimmed();
        Assert.False(policy.Observe(inFlight: 0, started: 2));
        time.Advance(Idle);
        Assert.False(policy.Observe(inFlight: 0, started: 2));

        // Once the interval has passed, the trim is due.
        time.Advance(TimeSpan.FromSeconds(300) - Idle);
        Assert.True(policy.Observe(inFlight: 0, started: 2));
    }
}
