namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// Prefix affinity for prefill: the hash of the prompt's first <c>PrefixLength</c> characters
/// (<see cref="RoutingContext.AffinityKey"/>) picks a point on a consistent-hash ring, so a repeated
/// prefix reaches the instance whose vLLM prefix cache already holds its KV blocks. Walking the
/// ring skips ineligible instances and, following consistent hashing with bounded loads
/// (Mirrokni, Thorup, Zadimoghaddam 2016), instances above <c>LoadFactor</c> times the mean
/// outstanding load, so a hot prefix spills over instead of queueing on one instance. Requests
/// without a key use <paramref name="fallback"/>.
/// </summary>
internal sealed class PrefixAffinityPolicy(int virtualNodes, double loadFactor, IBalancingPolicy fallback)
    : IBalancingPolicy
{
    private volatile ConsistentHashRing? _ring;

    public UpstreamInstance? Choose(in SelectionRequest request)
    {
        var key = request.Context.AffinityKey;
        if (key is not { } point || request.Instances.Count == 0)
        {
            return fallback.Choose(request);
        }

        var ring = GetRing(request.Instances);
        var bound = LoadBound(request);
        UpstreamInstance? firstEligible = null;
        foreach (var candidate in ring.Walk(point))
        {
            if (!request.IsEligible(candidate))
            {
                continue;
            }

            firstEligible ??= candidate;
            if (candidate.Outstanding < bound)
            {
                return candidate;
            }
        }

        return firstEligible;
    }

    /// <summary>ceil(loadFactor x (outstanding + 1) / eligible): the new request counts too, so the bound is never 0.</summary>
    private int LoadBound(in SelectionRequest request)
    {
        long outstanding = 0;
        var eligible = 0;
        foreach (var instance in request.Instances)
        {
            if (request.IsEligible(instance))
            {
                outstanding += instance.Outstanding;
                eligible++;
            }
        }

        return eligible == 0 ? int.MaxValue : (int)Math.Ceiling(loadFactor * (outstanding + 1) / eligible);
    }

    private ConsistentHashRing GetRing(IReadOnlyList<UpstreamInstance> instances)
    {
        // Registry snapshots keep their per-role list identity until the set changes, so the ring
        // is rebuilt once per change; a racing rebuild is harmless (same input, same ring).
        var ring = _ring;
        if (ring is null || !ReferenceEquals(ring.Instances, instances))
        {
            ring = new ConsistentHashRing(instances, virtualNodes);
            _ring = ring;
        }

        return ring;
    }
}
