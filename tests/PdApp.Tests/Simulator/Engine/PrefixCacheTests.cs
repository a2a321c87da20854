using PdApp.Protocol.KvEvents;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Scheduling;

namespace PdApp.Tests.Simulator.Engine;

/// <summary>The simulator's per-instance prefix cache: hits, LRU eviction, pinning, and the events it publishes.</summary>
public sealed class PrefixCacheTests
{
    private static readonly int[] FourBlocks = Enumerable.Range(100, 17).ToArray(); // 4 full blocks of 4 + 1 token

    [Fact]
    public void RepeatedPrompt_HitsAllButTheLastToken()
    {
        var (cache, _) = Create(capacity: 100);
        using (var first = cache.Acquire(FourBlocks))
        {
            Assert.Equal(0, first.CachedTokens);
            first.StoreComputed();
        }

        using var second = cache.Acquire(FourBlocks);
        Assert.Equal(16, second.CachedTokens);

        // A prompt of exactly 4 blocks hits 3: vLLM always computes the last token.
        using var exact = cache.Acquire(FourBlocks[..16]);
        Assert.Equal(12, exact.CachedTokens);
    }

    [Fact]
    public void SharedPrefix_HitsOnlyTheCommonLeadingBlocks()
    {
        var (cache, _) = Create(capacity: 100);
        using (var first = cache.Acquire(FourBlocks))
        {
            first.StoreComputed();
        }

        var diverging = FourBlocks.ToArray();
        diverging[9] = 7; // third block differs
        using var second = cache.Acquire(diverging);
        Assert.Equal(8, second.CachedTokens);
    }

    [Fact]
    public void OverCapacity_EvictsLeastRecentlyUsed_AndPublishesRemoved()
    {
        var (cache, sink) = Create(capacity: 4);
        int[] a = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        int[] b = [11, 12, 13, 14, 15, 16, 17, 18, 19];
        int[] c = [21, 22, 23, 24, 25, 26, 27, 28, 29];
        Store(cache, a);
        Store(cache, b);
        using (var touch = cache.Acquire(a))
        {
            Assert.Equal(8, touch.CachedTokens);
        }

        Store(cache, c); // evicts b, the least recently used

        var keysA = KvBlockHasher.HashBlocks(a, 4);
        var keysB = KvBlockHasher.HashBlocks(b, 4);
        Assert.All(keysA, key => Assert.True(cache.Contains(key)));
        Assert.All(keysB, key => Assert.False(cache.Contains(key)));
        var removed = sink.Events.OfType<BlockRemoved>().Single();
        Assert.Equal(keysB, removed.BlockHashes);
        Assert.Equal(4, cache.Count);
    }

    [Fact]
    public void BlocksOfARunningRequest_AreNotEvicted()
    {
        var (cache, _) = Create(capacity: 2);
        int[] a = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        using var running = cache.Acquire(a);
        running.StoreComputed();

        Store(cache, [11, 12, 13, 14, 15, 16, 17, 18, 19]);

        Assert.All(KvBlockHasher.HashBlocks(a, 4), key => Assert.True(cache.Contains(key)));
    }

    [Fact]
    public void Store_PublishesBlockStoredWithParentAndTokens_AsVllm()
    {
        var (cache, sink) = Create(capacity: 100);
        Store(cache, FourBlocks[..8]);
        Store(cache, FourBlocks);

        var stored = sink.Events.OfType<BlockStored>().ToArray();
        Assert.Equal(2, stored.Length);
        var keys = KvBlockHasher.HashBlocks(FourBlocks, 4);
        Assert.Null(stored[0].ParentBlockHash);
        Assert.Equal(keys[..2], stored[0].BlockHashes);
        Assert.Equal(keys[1], stored[1].ParentBlockHash);
        Assert.Equal(keys[2..], stored[1].BlockHashes);
        Assert.Equal(FourBlocks[8..16], stored[1].TokenIds);
        Assert.Equal(4, stored[1].BlockSize);
        Assert.Equal("GPU", stored[1].Medium);
    }

    [Fact]
    public void Clear_DropsEverything_AndPublishesAllBlocksCleared()
    {
        var (cache, sink) = Create(capacity: 100);
        Store(cache, FourBlocks);

        cache.Clear();

        Assert.Equal(0, cache.Count);
        Assert.IsType<AllBlocksCleared>(sink.Events[^1]);
    }

    private static void Store(PrefixCache cache, int[] tokens)
    {
        using var hold = cache.Acquire(tokens);
        hold.StoreComputed();
    }

    private static (PrefixCache Cache, RecordingSink Sink) Create(int capacity)
    {
        var sink = new RecordingSink();
        var options = new SimulatorOptions { Model = "m", BlockSize = 4, Timing = new TimingOptions { KvCacheSizeBlocks = capacity } };
        return (new PrefixCache(options, sink), sink);
    }

    private sealed class RecordingSink : IKvEventSink
    {
        public List<KvCacheEvent> Events { get; } = [];

        public void Publish(IReadOnlyList<KvCacheEvent> events) => Events.AddRange(events);
    }
}
