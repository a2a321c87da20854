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

    private static void Lease(UpstreamInstance instance) => instance.Acquire();

    private UpstreamInstance? Choose(IBalancingPolicy policy, int[] prompt) =>
        policy.Choose(new SelectionRequest(_instances, new RoutingContext("r", null) { KvBlockKeys = Keys(prompt), KvPromptTokens = prompt.Length }, _clock.GetUtcNow()));

    private (IBalancingPolicy Policy, KvBlockIndex Index) Create(Action<PdApp.Proxy.Routing.KvCache.KvCacheOptions>? configure = null)
    {
        var options = Options(configure);
        var index = new KvBlockIndex(Microsoft.Extensions.Options.Options.Create(options), _clock);
        return (new KvAwarePolicy(Services(index, options), "prefill", new LeastOutstandingPolicy()), index);
    }
}
