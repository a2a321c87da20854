using Microsoft.Extensions.Time.Testing;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Scheduling;

namespace PdApp.Tests.Simulator.Engine;

/// <summary>Prefill contention: concurrent prefills on one instance share its compute, oldest first.</summary>
public sealed class PrefillComputeTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    private static SimulatorOptions Options(bool contention) => new()
    {
        Model = "m",
        Timing = new TimingOptions { TimeToFirstTokenMs = 20, PrefillTimePerTokenMs = 0.5, PrefillContention = contention },
    };

    [Fact]
    public void WithContention_ConcurrentPrefillsQueueBehindEarlierOnes()
    {
        var compute = new PrefillCompute(Options(contention: true), _time);

        Assert.Equal(TimeSpan.FromMilliseconds(500), compute.Reserve(1000));
        Assert.Equal(TimeSpan.FromMilliseconds(600), compute.Reserve(200));   // behind the first 500 ms
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(500), compute.Backlog);
        Assert.Equal(TimeSpan.FromMilliseconds(1000), compute.Reserve(1000)); // 500 owed + its own 500
    }

    [Fact]
    public void WithContention_AnIdleInstanceStartsAtOnce_AndCachedPromptsCostNothing()
    {
        var compute = new PrefillCompute(Options(contention: true), _time);
        compute.Reserve(100);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.Zero, compute.Backlog);
        Assert.Equal(TimeSpan.FromMilliseconds(50), compute.Reserve(100));
        Assert.Equal(TimeSpan.FromMilliseconds(50), compute.Reserve(0)); // fully cached: only waits for the step in progress
    }

    [Fact]
    public void WithoutContention_EachPrefillTakesItsOwnTime()
    {
        var compute = new PrefillCompute(Options(contention: false), _time);

        Assert.Equal(TimeSpan.FromMilliseconds(500), compute.Reserve(1000));
        Assert.Equal(TimeSpan.FromMilliseconds(500), compute.Reserve(1000));
        Assert.Equal(TimeSpan.Zero, compute.Backlog);
    }

    [Fact]
    public void TimingModel_AddsTheFixedPartToQueuedCompute_NotToARecomputedTail()
    {
        var options = Options(contention: true);
        var timing = new TimingModel(options, new PrefillCompute(options, _time));

        Assert.Equal(TimeSpan.FromMilliseconds(20 + 50), timing.Prefill(100));
        Assert.Equal(TimeSpan.FromMilliseconds(50 + 5), timing.RecomputeTail(10));
        Assert.Equal(TimeSpan.FromMilliseconds(20 + 55 + 50), timing.Prefill(100));
    }

    [Fact]
    public void CommandLine_PrefillContentionIsASwitch_OffByDefault()
    {
        Assert.True(SimulatorOptionsParser.Parse(["serve", "m", "--prefill-contention"], []).Timing.PrefillContention);
        Assert.False(SimulatorOptionsParser.Parse(["serve", "m"], []).Timing.PrefillContention);
    }
}
