using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Scheduling;

namespace PdApp.Tests.Simulator.Engine;

public sealed class EngineSchedulerTests
{
    private static EngineScheduler Scheduler(int maxNumSeqs, int blocks) => new(new SimulatorOptions
    {
        Model = "m",
        BlockSize = 16,
        Timing = new TimingOptions { MaxNumSeqs = maxNumSeqs, KvCacheSizeBlocks = blocks },
    });

    [Fact]
    public async Task BeyondMaxNumSeqs_RequestsWaitFirstComeFirstServed()
    {
        var scheduler = Scheduler(maxNumSeqs: 1, blocks: 100);
        var first = await scheduler.AdmitAsync(10, CancellationToken.None);
        var second = scheduler.AdmitAsync(10, CancellationToken.None).AsTask();
        var third = scheduler.AdmitAsync(10, CancellationToken.None).AsTask();

        Assert.Equal(2, scheduler.Waiting);
        first.Dispose();
        using var admitted = await second.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.False(third.IsCompleted);
        Assert.Equal(1, scheduler.Running);
        admitted.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.Equal(0, scheduler.Running);
    }

    [Fact]
    public async Task KvCapacity_LimitsAdmission_AndOutputGrowsUsage()
    {
        var scheduler = Scheduler(maxNumSeqs: 10, blocks: 4);
        var big = await scheduler.AdmitAsync(48, CancellationToken.None);
        Assert.Equal(0.75, scheduler.KvUsage);

        var waiting = scheduler.AdmitAsync(20, CancellationToken.None).AsTask();
        Assert.Equal(1, scheduler.Waiting);
        big.AppendToken();
        Assert.Equal(1.0, scheduler.KvUsage);

        big.Dispose();
        using var admitted = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0.5, scheduler.KvUsage);
    }

    [Fact]
    public async Task CancelledWhileWaiting_LeavesTheQueue()
    {
        var scheduler = Scheduler(maxNumSeqs: 1, blocks: 100);
        using var running = await scheduler.AdmitAsync(1, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var waiting = scheduler.AdmitAsync(1, cts.Token).AsTask();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, scheduler.Waiting);
        Assert.Equal(1, scheduler.Running);
    }

    [Fact]
    public void PinnedKv_HoldsBlocksUntilReleasedOnce()
    {
        var scheduler = Scheduler(maxNumSeqs: 1, blocks: 10);

        var pin = scheduler.Pin(32);
        Assert.Equal(0.2, scheduler.KvUsage);
        pin.Dispose();
        pin.Dispose();

        Assert.Equal(0, scheduler.KvUsage);
    }
}
