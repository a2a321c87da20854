using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Balancing;

/// <summary>Builds a policy (each role gets its own instance, so their counters and rings are independent).</summary>
internal static class BalancingPolicyFactory
{
    public static IBalancingPolicy Create(BalancingPolicyKind kind, BalancingOptions options, Random random) => kind switch
    {
        BalancingPolicyKind.RoundRobin => new RoundRobinPolicy(),
        BalancingPolicyKind.LeastOutstanding => new LeastOutstandingPolicy(),
        BalancingPolicyKind.PowerOfTwoChoices => new PowerOfTwoChoicesPolicy(random),
        BalancingPolicyKind.PrefixAffinity => new PrefixAffinityPolicy(
            options.PrefixLength, options.VirtualNodes, options.PrefixAffinityLoadFactor, new LeastOutstandingPolicy()),
        BalancingPolicyKind.LoadAware => new LoadAwarePolicy(TimeSpan.FromSeconds(options.LoadStaleSeconds), new LeastOutstandingPolicy()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Unknown balancing policy {kind}."),
    };
}
