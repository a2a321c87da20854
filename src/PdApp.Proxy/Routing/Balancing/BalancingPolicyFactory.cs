using PdApp.Protocol;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Balancing;

/// <summary>Builds a policy (each role gets its own instance, so their counters and rings are independent).</summary>
internal static class BalancingPolicyFactory
{
    public static IBalancingPolicy Create(BalancingPolicyKind kind, BalancingOptions options, Random random) =>
        Create(kind, options, random, kvCache: null, role: PdRole.Both);

    /// <summary>Builds a policy; <paramref name="kvCache"/> serves <see cref="BalancingPolicyKind.KvAware"/>.</summary>
    public static IBalancingPolicy Create(BalancingPolicyKind kind, BalancingOptions options, Random random, KvAwareServices? kvCache, PdRole role) => kind switch
    {
        BalancingPolicyKind.KvAware => new KvAwarePolicy(
            // Without the registered index (a policy built on its own) it has no events and falls back.
            kvCache ?? KvAwareServices.Detached(),
            role,
            new LeastOutstandingPolicy()),
        BalancingPolicyKind.RoundRobin => new RoundRobinPolicy(),
        BalancingPolicyKind.LeastOutstanding => new LeastOutstandingPolicy(),
        BalancingPolicyKind.PowerOfTwoChoices => new PowerOfTwoChoicesPolicy(random),
        BalancingPolicyKind.PrefixAffinity => new PrefixAffinityPolicy(
            options.VirtualNodes, options.PrefixAffinityLoadFactor, new LeastOutstandingPolicy()),
        BalancingPolicyKind.LoadAware => new LoadAwarePolicy(TimeSpan.FromSeconds(options.LoadStaleSeconds), new LeastOutstandingPolicy()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Unknown balancing policy {kind}."),
    };
}
