using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Tests.Proxy.Routing;

public sealed class PrefixAffinityTests
{
    private const int PrefixLength = 64;

    private static readonly string[] Prompts = [.. Enumerable.Range(0, 400).Select(i =>
        $"<|system|>You are assistant number {i}, answer briefly and precisely.<|user|>What is {i} squared?")];

    private static SelectorFixture CreateFixture(int instances = 4)
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.PrefixAffinity, configure: o => o.PrefixLength = PrefixLength);
        fixture.Add(PdRole.Prefill, instances);
        return fixture;
    }

    [Fact]
    public void RepeatedPrompt_AlwaysReachesTheSameInstance()
    {
        var fixture = CreateFixture();

        foreach (var prompt in Prompts.Take(50))
        {
            var picks = Enumerable.Range(0, 5).Select(_ => fixture.Pick(PdRole.Prefill, prompt)).Distinct().ToList();
            Assert.Single(picks);
        }
    }

    [Fact]
    public void PromptsSharingTheirFirstCharacters_ReachTheSameInstance()
    {
        var fixture = CreateFixture();
        var systemPrompt = new string('s', PrefixLength);

        // A multi-turn chat: each turn re-sends the whole conversation, which starts with the same prefix.
        var picks = Enumerable.Range(1, 20)
            .Select(turn => fixture.Pick(PdRole.Prefill, systemPrompt + string.Concat(Enumerable.Repeat($"<|user|>turn {turn}", turn))))
            .Distinct()
            .ToList();

        Assert.Single(picks);
    }

    [Fact]
    public void DistinctPrefixes_SpreadOverAllInstances()
    {
        var fixture = CreateFixture();

        var counts = Prompts.GroupBy(p => fixture.Pick(PdRole.Prefill, p)).ToDictionary(g => g.Key!, g => g.Count());

        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 60, 140));
    }

    [Fact]
    public void RemovingAnInstance_RemapsOnlyTheKeysItOwned()
    {
        var fixture = CreateFixture();
        var before = Prompts.ToDictionary(p => p, p => fixture.Pick(PdRole.Prefill, p));

        Assert.True(fixture.Registry.Remove("prefill-2"));
        var after = Prompts.ToDictionary(p => p, p => fixture.Pick(PdRole.Prefill, p));

        var moved = Prompts.Where(p => before[p] != after[p]).ToList();
        Assert.NotEmpty(moved);
        Assert.All(moved, p => Assert.Equal("prefill-2", before[p]));
        Assert.All(Prompts.Where(p => before[p] == "prefill-2"), p => Assert.NotEqual("prefill-2", after[p]));

        // Adding it back restores the original mapping exactly.
        fixture.Registry.AddOrUpdate(new UpstreamInstance("prefill-2", PdRole.Prefill, new Uri("http://127.0.0.1:9999/"), InstanceSource.Admin));
        Assert.All(Prompts, p => Assert.Equal(before[p], fixture.Pick(PdRole.Prefill, p)));
    }

    [Fact]
    public void UnavailableOwner_FallsBackToTheNextInstanceOnTheRing_ThenReturns()
    {
        var fixture = CreateFixture();
        var prompt = Prompts[7];
        var owner = fixture.Registry.Find(fixture.Pick(PdRole.Prefill, prompt)!)!;

        owner.IsHealthy = false;
        var fallback = fixture.Pick(PdRole.Prefill, prompt);
        Assert.NotEqual(owner.Name, fallback);
        Assert.Equal(fallback, fixture.Pick(PdRole.Prefill, prompt));

        owner.IsHealthy = true;
        Assert.Equal(owner.Name, fixture.Pick(PdRole.Prefill, prompt));
    }

    [Fact]
    public void HotPrefix_SpillsOverWhenItsOwnerIsAboveTheLoadBound()
    {
        var fixture = CreateFixture();
        var prompt = Prompts[0];
        var held = new List<InstanceLease>();

        // 12 concurrent requests with the same prefix: bounded loads (factor 1.5) cap the owner
        // near 1.5 x the mean instead of queueing all 12 there.
        for (var i = 0; i < 12; i++)
        {
            held.Add(fixture.Selector.Select(PdRole.Prefill, new RoutingContext($"r{i}", fixture.Key(prompt)))!);
        }

        var perInstance = held.GroupBy(l => l.Instance.Name).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(perInstance.Count > 1, "a hot prefix should spill over to other instances");
        Assert.All(perInstance.Values, c => Assert.True(c <= 5, $"an instance got {c} of 12 requests"));
        held.ForEach(l => l.Dispose());

        // Once the load is gone the prefix goes home again.
        var owner = fixture.Pick(PdRole.Prefill, prompt);
        Assert.Equal(held[0].Instance.Name, owner);
    }

    [Fact]
    public void RequestWithoutAffinityKey_UsesLeastOutstanding()
    {
        var fixture = CreateFixture(instances: 2);
        using var busy = fixture.Selector.Select(PdRole.Prefill, new RoutingContext("r", fixture.Key(Prompts[0])));

        var picks = Enumerable.Range(0, 10).Select(_ => fixture.Pick(PdRole.Prefill, prompt: null)).Distinct().ToList();

        Assert.Equal([fixture.Registry.GetInstances(PdRole.Prefill).Single(i => i != busy!.Instance).Name], picks);
    }

    [Fact]
    public void TwoSelectorsWithTheSameInstances_AgreeOnEveryPrefix()
    {
        // Replicas of the proxy must route a prefix alike: the hash is stable, not per-process.
        var first = CreateFixture();
        var second = CreateFixture();

        Assert.All(Prompts, p => Assert.Equal(first.Pick(PdRole.Prefill, p), second.Pick(PdRole.Prefill, p)));
    }
}
