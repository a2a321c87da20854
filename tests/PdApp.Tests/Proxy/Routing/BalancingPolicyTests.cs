using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Tests.Proxy.Routing;

public sealed class BalancingPolicyTests
{
    /// <summary>Every policy there is, so a new one is held to the common rules without editing the tests.</summary>
    public static TheoryData<BalancingPolicyKind> EveryPolicy => new(Enum.GetValues<BalancingPolicyKind>());

    /// <summary>The policies that follow load (LoadAware without gauges falls back to the in-flight count).</summary>
    public static TheoryData<BalancingPolicyKind> LoadFollowingPolicies =>
        new(BalancingPolicyKind.LeastOutstanding, BalancingPolicyKind.PowerOfTwoChoices, BalancingPolicyKind.LoadAware);

    [Fact]
    public void RoundRobin_CyclesThroughInstancesInTurn()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.RoundRobin);
        fixture.Add(PdRole.Prefill, 3);

        var picks = Enumerable.Range(0, 6).Select(_ => fixture.Pick(PdRole.Prefill)).ToList();

        Assert.Equal(["prefill-0", "prefill-1", "prefill-2", "prefill-0", "prefill-1", "prefill-2"], picks);
    }

    [Theory]
    [MemberData(nameof(EveryPolicy))]
    public void EveryPolicy_SkipsUnhealthyDrainingEjectedAndExcludedInstances(BalancingPolicyKind kind)
    {
        var fixture = new SelectorFixture(kind);
        var instances = fixture.Add(PdRole.Prefill, 5);
        instances[0].IsHealthy = false;
        instances[1].IsDraining = true;
        instances[2].EjectedUntil = fixture.Clock.GetUtcNow().AddMinutes(1);
        var exclude = new HashSet<UpstreamInstance> { instances[3] };

        var picks = Enumerable.Range(0, 200)
            .Select(i => fixture.Pick(PdRole.Prefill, $"prompt {i}", exclude))
            .Distinct()
            .ToList();

        Assert.Equal(["prefill-4"], picks);
    }

    [Theory]
    [MemberData(nameof(EveryPolicy))]
    public void EveryPolicy_NoAvailableInstance_ReturnsNull(BalancingPolicyKind kind)
    {
        var fixture = new SelectorFixture(kind);
        var instances = fixture.Add(PdRole.Prefill, 2);
        instances[0].IsHealthy = false;
        instances[1].IsDraining = true;

        Assert.Null(fixture.Selector.Select(PdRole.Prefill, new RoutingContext("r", PdApp.Proxy.Routing.Balancing.StableHash.Hash("prompt"))));
        Assert.False(fixture.Selector.HasAvailable(PdRole.Prefill));
    }

    [Fact]
    public void EjectedInstance_ComesBackWhenEjectionEnds()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.RoundRobin);
        var instances = fixture.Add(PdRole.Decode, 1);
        instances[0].EjectedUntil = fixture.Clock.GetUtcNow().AddSeconds(10);

        Assert.False(fixture.Selector.HasAvailable(PdRole.Decode));
        fixture.Clock.Advance(TimeSpan.FromSeconds(10));

        Assert.True(fixture.Selector.HasAvailable(PdRole.Decode));
        Assert.Equal("decode-0", fixture.Pick(PdRole.Decode));
    }

    [Fact]
    public void LeastOutstanding_PicksTheInstanceWithFewestRequestsInFlight()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.LeastOutstanding);
        fixture.Add(PdRole.Decode, 3);
        var held = new List<InstanceLease>();

        // Ten requests held open: each goes to the least loaded, so they spread 4/3/3.
        for (var i = 0; i < 10; i++)
        {
            held.Add(fixture.Selector.Select(PdRole.Decode, new RoutingContext($"r{i}", null))!);
        }

        var counts = held.GroupBy(l => l.Instance.Name).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 3, 4));

        // Releasing decode-1's requests makes it the only choice with zero in flight.
        foreach (var lease in held.Where(l => l.Instance.Name == "decode-1"))
        {
            lease.Dispose();
        }

        Assert.Equal("decode-1", fixture.Pick(PdRole.Decode));
    }

    [Fact]
    public void LeastOutstanding_IdleInstances_ShareTies()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.LeastOutstanding);
        fixture.Add(PdRole.Decode, 3);

        var picks = Enumerable.Range(0, 300).Select(_ => fixture.Pick(PdRole.Decode)).GroupBy(n => n).ToDictionary(g => g.Key!, g => g.Count());

        Assert.Equal(3, picks.Count);
        Assert.All(picks.Values, c => Assert.Equal(100, c));
    }

    [Theory]
    [MemberData(nameof(LoadFollowingPolicies))]
    public void LoadFollowingPolicy_NeverPicksTheBusierOfTwo(BalancingPolicyKind kind)
    {
        var fixture = new SelectorFixture(kind);
        var instances = fixture.Add(PdRole.Prefill, 2);
        var busy = Enumerable.Range(0, 5).Select(_ => fixture.Selector.Select(PdRole.Prefill, new RoutingContext("r", null))!).ToList();
        var busiest = busy.GroupBy(l => l.Instance).OrderByDescending(g => g.Count()).First().Key;

        var picks = Enumerable.Range(0, 50).Select(_ => fixture.Pick(PdRole.Prefill)).Distinct().ToList();

        Assert.Equal([instances.Single(i => i != busiest).Name], picks);
    }

    [Theory]
    [MemberData(nameof(LoadFollowingPolicies))]
    public void LoadFollowingPolicy_SpreadsHeldRequestsEvenly(BalancingPolicyKind kind)
    {
        var fixture = new SelectorFixture(kind);
        fixture.Add(PdRole.Prefill, 4);
        var held = Enumerable.Range(0, 400).Select(i => fixture.Selector.Select(PdRole.Prefill, new RoutingContext($"r{i}", null))!).ToList();

        var counts = held.GroupBy(l => l.Instance.Name).Select(g => g.Count()).ToList();

        // Within a request or two of the mean (two random choices alone; least outstanding exactly).
        Assert.Equal(4, counts.Count);
        Assert.All(counts, c => Assert.InRange(c, 96, 104));
    }

    [Fact]
    public void LoadAware_PrefersFewerWaitingRequests_AndAvoidsFullKvCache()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.LoadAware);
        var instances = fixture.Add(PdRole.Prefill, 3);
        var now = fixture.Clock.GetUtcNow();
        instances[0].Load = new InstanceLoad(Running: 2, Waiting: 6, KvCacheUsage: 0.3, now);
        instances[1].Load = new InstanceLoad(Running: 8, Waiting: 0, KvCacheUsage: 0.4, now);
        instances[2].Load = new InstanceLoad(Running: 0, Waiting: 0, KvCacheUsage: 0.99, now);

        Assert.Equal("prefill-1", fixture.Pick(PdRole.Prefill));

        instances[1].Load = new InstanceLoad(Running: 8, Waiting: 4, KvCacheUsage: 0.4, now);
        Assert.Equal("prefill-0", fixture.Pick(PdRole.Prefill));
    }

    [Fact]
    public void LoadAware_StaleOrMissingGauges_FallBackToLeastOutstanding()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.LoadAware, configure: o => o.LoadStaleSeconds = 15);
        var instances = fixture.Add(PdRole.Prefill, 2);
        instances[0].Load = new InstanceLoad(Running: 0, Waiting: 0, KvCacheUsage: 0, fixture.Clock.GetUtcNow());
        instances[1].Load = new InstanceLoad(Running: 50, Waiting: 50, KvCacheUsage: 0.9, fixture.Clock.GetUtcNow());
        using var onZero = fixture.Selector.Select(PdRole.Prefill, new RoutingContext("r", null));
        Assert.Equal("prefill-0", onZero!.Instance.Name);

        // Gauges go stale: the choice follows the proxy's own in-flight count, which favours prefill-1 now.
        fixture.Clock.Advance(TimeSpan.FromSeconds(16));

        Assert.Equal("prefill-1", fixture.Pick(PdRole.Prefill));
    }

    [Theory]
    [MemberData(nameof(EveryPolicy))]
    public void PrefixHolder_IsChosenWhileEligible_ThenThePolicyChoosesAgain(BalancingPolicyKind kind)
    {
        var fixture = new SelectorFixture(kind);
        var instances = fixture.Add(PdRole.Prefill, 4);
        var holder = instances[2];
        string? Pick(IReadOnlySet<UpstreamInstance>? exclude = null)
        {
            using var lease = fixture.Selector.Select(PdRole.Prefill, new RoutingContext("req", fixture.Key("prompt"), exclude) { PrefixHolder = holder });
            return lease?.Instance.Name;
        }

        var picks = Enumerable.Range(0, 8).Select(_ => Pick()).Distinct().ToList();
        if (kind == BalancingPolicyKind.KvAware)
        {
            // KvAware weighs the engines' caches from their own events (none here: it spreads as without a holder).
            Assert.True(picks.Count > 1, string.Join(", ", picks));
            return;
        }

        Assert.Equal(["prefill-2"], picks);

        // Excluded (its prefill failed), draining, ejected or gone: the policy chooses among the others.
        Assert.NotEqual("prefill-2", Pick(new HashSet<UpstreamInstance> { holder }));
        holder.IsDraining = true;
        Assert.NotEqual("prefill-2", Pick());
        holder.IsDraining = false;
        holder.EjectedUntil = fixture.Clock.GetUtcNow().AddMinutes(1);
        Assert.NotEqual("prefill-2", Pick());
        holder.EjectedUntil = null;
        fixture.Registry.Remove(holder.Name);
        Assert.NotEqual("prefill-2", Pick());
        Assert.NotNull(Pick());
    }

    [Fact]
    public void PrefixHolder_OfAnotherRole_IsNotChosen()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.RoundRobin, BalancingPolicyKind.RoundRobin);
        var prefill = fixture.Add(PdRole.Prefill, 1);
        fixture.Add(PdRole.Decode, 2);

        using var lease = fixture.Selector.Select(PdRole.Decode, new RoutingContext("req", null) { PrefixHolder = prefill[0] });

        Assert.StartsWith("decode-", lease!.Instance.Name);
    }

    [Fact]
    public void BothRoleInstance_ServesPrefillAndDecode()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.RoundRobin);
        fixture.Add(PdRole.Both, 1, "nixl");

        Assert.Equal("nixl-0", fixture.Pick(PdRole.Prefill, "prompt"));
        Assert.Equal("nixl-0", fixture.Pick(PdRole.Decode));
        Assert.True(fixture.Selector.HasAvailable(PdRole.Prefill));
        Assert.True(fixture.Selector.HasAvailable(PdRole.Decode));
    }

    [Fact]
    public void Lease_CountsOutstandingUntilDisposedOnce()
    {
        var fixture = new SelectorFixture(BalancingPolicyKind.RoundRobin);
        var instance = fixture.Add(PdRole.Decode, 1)[0];

        var lease = fixture.Selector.Select(PdRole.Decode, new RoutingContext("r", null))!;
        Assert.Equal(1, instance.Outstanding);
        lease.Dispose();
        lease.Dispose();

        Assert.Equal(0, instance.Outstanding);
    }
}
