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

    private int[] Lengths(PdApp.Proxy.Routing.KvCache.KvBlockIndex index, ulong[] keys)
    {
        var matched = new int[2];
        index.Match(keys, [_a, _b], matched);
        return matched;
    }
}
