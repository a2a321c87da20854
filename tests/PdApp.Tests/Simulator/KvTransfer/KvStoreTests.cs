using Microsoft.Extensions.Time.Testing;
using PdApp.Simulator.KvTransfer;

namespace PdApp.Tests.Simulator.KvTransfer;

public sealed class KvStoreTests
{
    private static readonly KvRecord Record = new("hash", 10, "prefill-0", "engine", 0);

    [Fact]
    public async Task WaitAsync_ReturnsARecordPutWhileWaiting()
    {
        var store = new KvStore(TimeProvider.System, TimeSpan.FromMinutes(1));

        var waiting = store.WaitAsync("k", take: true, TimeSpan.FromSeconds(5), CancellationToken.None);
        store.Put("k", Record);

        Assert.Same(Record, await waiting);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task WaitAsync_TimesOutWithNull()
    {
        var time = new FakeTimeProvider();
        var store = new KvStore(time, TimeSpan.FromMinutes(1));

        var waiting = store.WaitAsync("missing", take: true, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(30));

        Assert.Null(await waiting);
    }

    [Fact]
    public void ExpiredRecords_AreDroppedAndReleasedOnce()
    {
        var time = new FakeTimeProvider();
        var store = new KvStore(time, TimeSpan.FromMinutes(8));
        var released = 0;
        store.Put("k", Record, () => released++);

        time.Advance(TimeSpan.FromMinutes(8));
        store.Sweep();
        Assert.NotNull(store.Get("k", take: false));

        time.Advance(TimeSpan.FromTicks(1));
        store.Sweep();
        store.Sweep();

        Assert.Null(store.Get("k", take: false));
        Assert.Equal(1, released);
    }

    [Fact]
    public void BeyondCapacity_OldestIsEvicted()
    {
        var store = new KvStore(TimeProvider.System, TimeSpan.FromMinutes(1), capacity: 2);

        store.Put("a", Record);
        store.Put("b", Record);
        store.Put("c", Record);

        Assert.Equal(2, store.Count);
        Assert.Null(store.Get("a", take: false));
        Assert.NotNull(store.Get("c", take: false));
    }
}
