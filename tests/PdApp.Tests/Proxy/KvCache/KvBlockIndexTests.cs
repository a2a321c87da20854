using PdApp.Protocol.KvEvents;
using PdApp.Proxy.Routing;
using PdApp.Tests.Proxy.Routing;
using static PdApp.Tests.Proxy.KvCache.KvIndexTestKit;

namespace PdApp.Tests.Proxy.KvCache;

/// <summary>The proxy's KV block index follows stores, removals, clears, restarts and removals of instances.</summary>
public sealed class KvBlockIndexTests
{
    private readonly UpstreamInstance _a = Instance("a");
    private readonly UpstreamInstance _b = Instance("b");

    [Fact]
    public void Stored_IsMatchedFromTheRequestsTokens_WhateverTheEngineHash()
    {
        var index = Index(new ManualClock());
        var prompt = Prompt(5);
        index.Apply("a", Stored(prompt[..12]));

        Assert.Equal([3, 0], Lengths(index, Keys(prompt)));
        Assert.Equal(3, index.BlocksOf("a"));
    }

    [Fact]
    public void StoredInTwoBatches_ChainsThroughTheParent()
    {
        var index = Index(new ManualClock());
        var prompt = Prompt(4);
        index.Apply("a", Stored(prompt[..8]));
        index.Apply("a", Stored(prompt, fromBlock: 2));

        Assert.Equal([4, 0], Lengths(index, Keys(prompt)));
    }

    [Fact]
    public void Removed_CutsThePrefixAtTheEvictedBlock()
    {
        var index = Index(new ManualClock());
        var prompt = Prompt(4);
        index.Apply("a", Stored(prompt));
        index.Apply("b", Stored(prompt, engineSalt: 7));

        index.Apply("a", Removed(prompt, block: 1));

        Assert.Equal([1, 4], Lengths(index, Keys(prompt)));
    }

    [Fact]
    public void AllBlocksCleared_AndRestart_DropTheInstancesEntries()
    {
        var index = Index(new ManualClock());
        var prompt = Prompt(3);
        index.Apply("a", Stored(prompt));
        index.Apply("b", Stored(prompt, engineSalt: 7));

        index.Apply("a", new KvEventBatch(0, [new AllBlocksCleared()], 0));
        Assert.Equal([0, 3], Lengths(index, Keys(prompt)));

        index.Clear("b"); // a restarted engine: its sequence went back to 0
        Assert.Equal([0, 0], Lengths(index, Keys(prompt)));
        Assert.Equal(0, index.Keys);
    }

    [Fact]
    public void DroppedInstance_LosesEverything_AndItsSlotIsReused()
    {
        var index = Index(new ManualClock());
        var prompt = Prompt(2);
        index.Apply("a", Stored(prompt));

        index.Drop("a");
        index.Apply("c", Stored(Prompt(2, first: 5)));

        Assert.Equal([0, 0], Lengths(index, Keys(prompt)));
        Assert.Equal(1, index.Instances);
        Assert.Null(index.LastEventAt("a"));
    }

    [Fact]
    public void UnknownParent_IsNotIndexed()
    {
        var index = Index(new ManualClock());
        var prompt = Prompt(4);

        index.Apply("a", Stored(prompt, fromBlock: 2));

        Assert.Equal(0, index.BlocksOf("a"));
        Assert.Equal([0, 0], Lengths(index, Keys(prompt)));
    }

    [Fact]
    public void OtherBlockSize_IsIgnored()
    {
        var index = Index(new ManualClock(), o => o.BlockSize = 8);

        index.Apply("a", Stored(Prompt(4)));

        Assert.Equal(0, index.BlocksOf("a"));
    }

    [Fact]
    public void MemoryIsBounded_TheOldestBlocksAreForgotten()
    {
        var index = Index(new ManualClock(), o => o.MaxBlocksPerInstance = 10);
        for (var i = 0; i < 20; i++)
        {
            index.Apply("a", Stored(Prompt(3, first: i * 100)));
        }

        Assert.Equal(10, index.BlocksOf("a"));
        Assert.Equal(10, index.Keys);
        Assert.Equal([3, 0], Lengths(index, Keys(Prompt(3, first: 1900))));
        Assert.Equal([0, 0], Lengths(index, Keys(Prompt(3, first: 0))));
    }

    [Fact]
    public void PendingNote_RefreshedByALaterRequest_OutlivesTheFirstRequestsExpiry_ThenExpires()
    {
        var clock = new ManualClock();
        var index = Index(clock, o => o.PendingSeconds = 5);
        index.Apply("a", Stored(Prompt(1, first: 1)));
        index.Apply("b", Stored(Prompt(1, first: 2)));
        var prompt = Keys(Prompt(3, first: 500));

        index.NotePending("a", prompt, clock.GetUtcNow());
        Assert.Equal([3, 0], Lengths(index, prompt));
        clock.Advance(TimeSpan.FromSeconds(3));
        index.NotePending("b", prompt, clock.GetUtcNow()); // a's note still runs: both hold it until 8 s
        clock.Advance(TimeSpan.FromSeconds(3));

        // Past the first note's expiry (5 s): the next note's clean-up must keep the refreshed keys.
        var other = Keys(Prompt(2, first: 900));
        index.NotePending("a", other, clock.GetUtcNow());
        Assert.Equal([3, 3], Lengths(index, prompt));
        Assert.Equal(5, index.PendingKeys);

        clock.Advance(TimeSpan.FromSeconds(3)); // 9 s: every note has expired
        Assert.Equal([0, 0], Lengths(index, prompt));
        index.NotePending("b", Keys(Prompt(1, first: 1200)), clock.GetUtcNow());
        Assert.Equal(2 + 1, index.PendingKeys); // the expired prompt's notes are dropped; the 6 s note (2 keys) and this one remain
    }

    private int[] Lengths(PdApp.Proxy.Routing.KvCache.KvBlockIndex index, ulong[] keys)
    {
        var matched = new int[2];
        index.Match(keys, [_a, _b], matched);
        return matched;
    }
}
