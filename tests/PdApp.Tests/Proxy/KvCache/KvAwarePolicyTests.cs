using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Balancing;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Tests.Proxy.Routing;
using static PdApp.Tests.Proxy.KvCache.KvIndexTestKit;

namespace PdApp.Tests.Proxy.KvCache;

/// <summary>The KvAware policy routes on the indexed caches, weighs load, and falls back visibly.</summary>
public sealed class KvAwarePolicyTests
{
    private readonly ManualClock _clock = new();
    private readonly UpstreamInstance[] _instances = [Instance("p0"), Instance("p1"), Instance("p2")];
    private readonly UpstreamInstance[] _decodes = [Instance("d0", PdApp.Protocol.PdRole.Decode), Instance("d1", PdApp.Protocol.PdRole.Decode)];

    [Fact]
    public void PromptSharingThreeBlocks_GoesToTheHolder_AndMovesAfterEviction()
    {
        var (policy, index) = Create();
        var shared = Prompt(3);
        index.Apply("p2", Stored(shared));
        index.Apply("p0", Stored(Prompt(3, first: 50)));
        index.Apply("p1", Stored(Prompt(3, first: 90)));
        var request = shared.Concat(Prompt(2, first: 7000)).ToArray(); // 3 shared blocks + 2 new

        Assert.Same(_instances[2], Choose(policy, request));

        index.Apply("p2", Removed(shared, block: 0)); // evicted: the chain breaks at its first block
        index.Apply("p1", Stored(shared));

        Assert.Same(_instances[1], Choose(policy, request));
    }

    [Fact]
    public void HotHolder_SpillsOnceWellAboveTheMeanLoad()
    {
        var (policy, index) = Create();
        var prompt = Prompt(4);
        index.Apply("p0", Stored(prompt));
        index.Apply("p1", Stored(Prompt(1, first: 9)));
        index.Apply("p2", Stored(Prompt(1, first: 19)));
        var request = prompt[..8].Concat(Prompt(2, first: 3000)).ToArray(); // half cached on p0

        Assert.Same(_instances[0], Choose(policy, request));
        for (var i = 0; i < 6; i++)
        {
            Lease(_instances[0]);
        }

        Assert.NotSame(_instances[0], Choose(policy, request));
    }

    [Theory]
    [InlineData(null, true)] // the default HolderLoadFactor (1.5)
    [InlineData(0.0, false)] // off: the score alone moves the turn to the less loaded p1
    public void ConversationsNextTurn_StaysOnTheHolder_UntilItIsClearlyOverloaded_OrEvicted(double? holderLoadFactor, bool kept)
    {
        var (policy, index) = Create(o =>
        {
            o.PendingSeconds = 0; // the index alone: a choice must not count as a holding
            o.HolderLoadFactor = holderLoadFactor ?? o.HolderLoadFactor;
        });
        var system = Prompt(8); // the system prompt every instance holds
        var history = system.Concat(Prompt(2, first: 5000)).ToArray(); // the conversation so far, on p0 only
        foreach (var instance in _instances)
        {
            index.Apply(instance.Name, Stored(instance == _instances[0] ? history : system));
        }

        var nextTurn = history.Concat(Prompt(2, first: 6000)).ToArray(); // 10 of 12 blocks on p0, 8 elsewhere

        // p0 runs 3 calls, p1 and p2 two each: p0 is busier, not overloaded (within 1.5x the mean requests,
        // and waiting there beats recomputing two blocks elsewhere by less than 1.5x).
        LeaseTimes(_instances[0], 3);
        LeaseTimes(_instances[1], 2);
        LeaseTimes(_instances[2], 2);
        Assert.Equal(kept, ReferenceEquals(_instances[0], Choose(policy, nextTurn)));
        if (!kept)
        {
            return;
        }

        // Two more calls on p0: above the bounded-load limit (ceil(1.5 x 10 / 3) = 5 with this one), so it moves.
        LeaseTimes(_instances[0], 2);
        Assert.NotSame(_instances[0], Choose(policy, nextTurn));

        // Back to three calls, but p0 evicted the history: no holder, the least loaded instance takes it.
        _instances[0].Release();
        _instances[0].Release();
        Assert.Same(_instances[0], Choose(policy, nextTurn));
        index.Apply("p0", Removed(history, block: 8));
        Assert.NotSame(_instances[0], Choose(policy, nextTurn));
    }

    [Fact]
    public void RequestsSharingANewPrefix_FollowTheFirstBeforeItsEventsArrive_UntilPendingSecondsPass()
    {
        var (policy, index) = Create(o => o.PendingSeconds = 5);
        foreach (var instance in _instances)
        {
            index.Apply(instance.Name, Stored(Prompt(1, first: instance.Name.Length * 100 + instance.Name[1])));
        }

        var prefix = Prompt(6, first: 5000);
        var first = Choose(policy, prefix.Concat(Prompt(1, first: 8000)).ToArray());
        Lease(first!); // its prefill is running: the least loaded instance would be another one

        Assert.Same(first, Choose(policy, prefix.Concat(Prompt(1, first: 8100)).ToArray()));

        // No event came back in time: the note expires and load decides again.
        _clock.Advance(TimeSpan.FromSeconds(6));
        Assert.NotSame(first, Choose(policy, prefix.Concat(Prompt(1, first: 8200)).ToArray()));
    }

    [Fact]
    public void PendingNote_IsDroppedByTheInstancesOwnRemoval_AndOffWithZeroSeconds()
    {
        var (policy, index) = Create();
        var prompt = Prompt(3);
        index.Apply("p0", Stored(Prompt(1, first: 40)));
        index.Apply("p1", Stored(prompt));
        index.Apply("p2", Stored(Prompt(1, first: 60)));
        Assert.Same(_instances[1], Choose(policy, prompt));

        index.Apply("p1", Removed(prompt, block: 0));
        Span<int> matched = stackalloc int[3];
        index.Match(Keys(prompt), _instances, matched);
        Assert.Equal(0, matched[1]);

        var (withoutNotes, plainIndex) = Create(o => o.PendingSeconds = 0);
        foreach (var instance in _instances)
        {
            plainIndex.Apply(instance.Name, Stored(Prompt(1, first: 70 + instance.Name[1])));
        }

        withoutNotes.Choose(new SelectionRequest(_instances, new RoutingContext("r", null) { KvBlockKeys = Keys(prompt), KvPromptTokens = prompt.Length }, _clock.GetUtcNow()));
        Assert.Equal(0, plainIndex.PendingKeys);
    }

    [Fact]
    public void NoEvents_FallsBackToLeastOutstanding()
    {
        var (policy, _) = Create();
        Lease(_instances[0]);
        Lease(_instances[2]);

        Assert.Same(_instances[1], Choose(policy, Prompt(3)));
    }

    [Fact]
    public void StaleEvents_FallBack()
    {
        var (policy, index) = Create(o => o.StaleSeconds = 10);
        var prompt = Prompt(3);
        index.Apply("p2", Stored(prompt));
        foreach (var instance in _instances.Take(2))
        {
            index.Apply(instance.Name, Stored(Prompt(1, first: instance.Name.Length * 100)));
        }

        Assert.Same(_instances[2], Choose(policy, prompt));

        // Requests keep going out, but no instance has published anything for a minute.
        _clock.Advance(TimeSpan.FromSeconds(60));
        foreach (var instance in _instances)
        {
            index.NoteRouted(instance.Name, _clock.GetUtcNow());
        }

        Lease(_instances[2]);
        Assert.NotSame(_instances[2], Choose(policy, prompt));
    }

    [Fact]
    public void RequestWithoutKeys_UsesTheFallback()
    {
        var (policy, index) = Create();
        index.Apply("p1", Stored(Prompt(3)));
        Lease(_instances[1]);

        var chosen = policy.Choose(new SelectionRequest(_instances, new RoutingContext("r", null), _clock.GetUtcNow()));

        Assert.Same(_instances[0], chosen);
    }

    [Fact]
    public void LongUncachedPromptInFlight_MovesTheNextTurnElsewhere_UntilItsPrefillEnds()
    {
        // No pending notes: the moved turn must not count as held where it went.
        var (selector, index) = CreateSelector(o => o.PendingSeconds = 0);
        var history = Prompt(8);
        index.Apply("p0", Stored(history));
        index.Apply("p1", Stored(Prompt(1, first: 40)));
        index.Apply("p2", Stored(Prompt(1, first: 60)));
        var nextTurn = history.Concat(Prompt(1, first: 9000)).ToArray(); // 8 of 9 blocks held by p0

        // An 80-block prompt nobody holds: p0 (first of equals) must compute all 320 tokens.
        var longPrompt = Select(selector, Prompt(80, first: 20_000));
        Assert.Same(_instances[0], longPrompt.Instance);
        Assert.Equal(320, _instances[0].PendingPrefillTokens);

        // Waiting behind 320 tokens costs more than computing the 36-token turn elsewhere.
        using (var moved = Select(selector, nextTurn))
        {
            Assert.NotSame(_instances[0], moved.Instance);
            Assert.Equal(36, moved.Instance.PendingPrefillTokens);
        }

        longPrompt.Dispose(); // the prefill answered: its tokens are computed
        Assert.Equal(0, _instances[0].PendingPrefillTokens);
        using var back = Select(selector, nextTurn);
        Assert.Same(_instances[0], back.Instance);
        Assert.Equal(4, _instances[0].PendingPrefillTokens); // only the uncached last block
    }

    [Fact]
    public void ManyShortTailsInFlight_DoNotMoveAConversationFromTheInstanceHoldingIt()
    {
        // The work term alone (the request term would spread the seven requests, as the next test shows).
        var (selector, index) = CreateSelector(o => o.RequestWeight = 0);
        var history = Prompt(8);
        index.Apply("p0", Stored(history));
        index.Apply("p1", Stored(Prompt(1, first: 40)));
        index.Apply("p2", Stored(Prompt(1, first: 60)));

        // Seven turns extending the conversation by one block each: seven requests in flight on p0, but
        // only 4 uncached tokens each; the last still waits behind 24, less than the 36 it would compute elsewhere.
        var leases = Enumerable.Range(0, 7).Select(i => Select(selector, history.Concat(Prompt(1, first: 9000 + (100 * i))).ToArray())).ToList();

        Assert.All(leases, lease => Assert.Same(_instances[0], lease.Instance));
        Assert.Equal(7, _instances[0].Outstanding);
        Assert.Equal(28, _instances[0].PendingPrefillTokens);
        leases.ForEach(lease => lease.Dispose());
    }

    [Theory]
    [InlineData(null, false)] // the default RequestWeight
    [InlineData(0.0, true)] // work only: the conversations pile up where the system prompt is cached
    public void ConversationsWithShortTailsInFlight_AreSpreadByRequestCount_NotPiledOnTheCacheHolder(double? requestWeight, bool piledUp)
    {
        var systemPrompt = Prompt(8);
        var (placer, placerIndex) = CreateSelector(o => o.RequestWeight = 0);
        var (selector, index) = CreateSelector(o => o.RequestWeight = requestWeight ?? o.RequestWeight);
        foreach (var i in new[] { placerIndex, index })
        {
            i.Apply("p0", Stored(systemPrompt));
            i.Apply("p1", Stored(Prompt(1, first: 40)));
            i.Apply("p2", Stored(Prompt(1, first: 60)));
        }

        // Seven conversations run on p0, each with a short uncached tail in flight (4 tokens): little work,
        // but seven histories for p0's cache to keep.
        var running = Enumerable.Range(0, 7).Select(i => Select(placer, systemPrompt.Concat(Prompt(1, first: 9000 + (100 * i))).ToArray())).ToList();
        Assert.All(running, lease => Assert.Same(_instances[0], lease.Instance));
        Assert.Equal(28, _instances[0].PendingPrefillTokens);

        // An eighth conversation over the same system prompt (half its prompt cached on p0).
        using var eighth = Select(selector, systemPrompt.Concat(Prompt(8, first: 30_000)).ToArray());

        Assert.Equal(piledUp, ReferenceEquals(_instances[0], eighth.Instance));
        running.ForEach(lease => lease.Dispose());
    }

    [Fact]
    public void ChargedWork_IsReleasedOnce_WhenTheCallFailsOrIsCancelled()
    {
        var (selector, index) = CreateSelector();
        foreach (var instance in _instances.Concat(_decodes))
        {
            index.Apply(instance.Name, Stored(Prompt(1, first: 70 + instance.Name[1])));
        }

        var failed = Select(selector, Prompt(5, first: 3000));
        var cancelled = Select(selector, Prompt(3, first: 4000));
        var decode = selector.Select(PdApp.Protocol.PdRole.Decode, Context(Prompt(6, first: 5000)))!;
        var withoutKeys = selector.Select(PdApp.Protocol.PdRole.Prefill, new RoutingContext("r", PdApp.Proxy.Routing.Balancing.StableHash.Hash("text")))!; // the fallback estimates nothing
        Assert.Equal(32, _instances.Sum(i => i.PendingPrefillTokens));
        Assert.Equal(6, _decodes.Sum(i => i.PendingBlocks));

        failed.ReportFailure();
        failed.Dispose();
        failed.Dispose();
        cancelled.Dispose(); // the client went away: no outcome reported
        decode.Dispose();
        withoutKeys.Dispose();

        Assert.All(_instances.Concat(_decodes), instance =>
        {
            Assert.Equal(0, instance.Outstanding);
            Assert.Equal(0, instance.PendingPrefillTokens);
            Assert.Equal(0, instance.PendingBlocks);
        });
    }

    [Fact]
    public void DecodeKvAware_SpreadsBySequenceBlocks_NotRequestCount()
    {
        var (selector, index) = CreateSelector();
        foreach (var instance in _decodes)
        {
            index.Apply(instance.Name, Stored(Prompt(1, first: 80 + instance.Name[1])));
        }

        // d0 runs one long sequence, d1 three short ones: a new sequence goes to d1 (fewer blocks held).
        using var longSequence = selector.Select(PdApp.Protocol.PdRole.Decode, Context(Prompt(30, first: 1000)))!;
        Assert.Same(_decodes[0], longSequence.Instance);
        var shorts = Enumerable.Range(0, 3).Select(i => selector.Select(PdApp.Protocol.PdRole.Decode, Context(Prompt(1, first: 2000 + (10 * i))))!).ToList();
        Assert.All(shorts, lease => Assert.Same(_decodes[1], lease.Instance));

        using var next = selector.Select(PdApp.Protocol.PdRole.Decode, Context(Prompt(2, first: 3000)))!;
        Assert.Same(_decodes[1], next.Instance);
        shorts.ForEach(lease => lease.Dispose());
    }

    private static void Lease(UpstreamInstance instance) => instance.Acquire();

    private static void LeaseTimes(UpstreamInstance instance, int count)
    {
        for (var i = 0; i < count; i++)
        {
            instance.Acquire();
        }
    }

    private UpstreamInstance? Choose(IBalancingPolicy policy, int[] prompt) =>
        policy.Choose(new SelectionRequest(_instances, new RoutingContext("r", null) { KvBlockKeys = Keys(prompt), KvPromptTokens = prompt.Length }, _clock.GetUtcNow()));

    private static RoutingContext Context(int[] prompt) => new("r", null) { KvBlockKeys = Keys(prompt), KvPromptTokens = prompt.Length };

    private InstanceLease Select(InstanceSelector selector, int[] prompt) => selector.Select(PdApp.Protocol.PdRole.Prefill, Context(prompt))!;

    // The selector as the proxy builds it (KvAware for both roles), over p0-p2 and d0-d1.
    private (InstanceSelector Selector, KvBlockIndex Index) CreateSelector(Action<PdApp.Proxy.Routing.KvCache.KvCacheOptions>? configure = null)
    {
        var options = Options(configure);
        var index = new KvBlockIndex(Microsoft.Extensions.Options.Options.Create(options), _clock);
        var registry = new InstanceRegistry(Microsoft.Extensions.Logging.Abstractions.NullLogger<InstanceRegistry>.Instance);
        foreach (var instance in _instances.Concat(_decodes))
        {
            registry.AddOrUpdate(instance);
        }

        var balancing = new PdApp.Proxy.Routing.Options.BalancingOptions
        {
            Prefill = PdApp.Proxy.Routing.Options.BalancingPolicyKind.KvAware,
            Decode = PdApp.Proxy.Routing.Options.BalancingPolicyKind.KvAware,
        };
        var tracker = new PdApp.Proxy.Routing.Health.PassiveHealthTracker(
            Microsoft.Extensions.Options.Options.Create(new PdApp.Proxy.Routing.Options.EjectionOptions()), _clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<PdApp.Proxy.Routing.Health.PassiveHealthTracker>.Instance);
        return (new InstanceSelector(registry, tracker, Microsoft.Extensions.Options.Options.Create(balancing), _clock, new Random(1), Services(index, options)), index);
    }

    private (IBalancingPolicy Policy, KvBlockIndex Index) Create(Action<PdApp.Proxy.Routing.KvCache.KvCacheOptions>? configure = null)
    {
        var options = Options(configure);
        var index = new KvBlockIndex(Microsoft.Extensions.Options.Options.Create(options), _clock);
        return (new KvAwarePolicy(Services(index, options), PdApp.Protocol.PdRole.Prefill, new LeastOutstandingPolicy()), index);
    }
}
