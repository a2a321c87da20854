namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// The eligible instance with the fewest requests in flight through this proxy. The scan starts at
/// a rotating offset so ties (e.g. an idle cluster) spread instead of piling onto the first instance.
/// </summary>
internal sealed class LeastOutstandingPolicy : IBalancingPolicy
{
    private uint _offset;

    public UpstreamInstance? Choose(in SelectionRequest request)
    {
        var instances = request.Instances;
        var count = instances.Count;
        if (count == 0)
        {
            return null;
        }

        var start = Interlocked.Increment(ref _offset) - 1;
        UpstreamInstance? best = null;
        var bestOutstanding = int.MaxValue;
        for (var i = 0; i < count; i++)
        {
            var candidate = instances[(int)((start + (uint)i) % (uint)count)];
            if (!request.IsEligible(candidate))
            {
                continue;
            }

            var outstanding = candidate.Outstanding;
            if (outstanding < bestOutstanding)
            {
                best = candidate;
                bestOutstanding = outstanding;
            }
        }

        return best;
    }
}
