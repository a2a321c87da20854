namespace PdApp.Proxy.Routing.Balancing;

/// <summary>Each eligible instance in turn; an ineligible one is skipped, not waited for.</summary>
internal sealed class RoundRobinPolicy : IBalancingPolicy
{
    private uint _next;

    public UpstreamInstance? Choose(in SelectionRequest request)
    {
        var instances = request.Instances;
        var count = instances.Count;
        if (count == 0)
        {
            return null;
        }

        var start = Interlocked.Increment(ref _next) - 1;
        for (var i = 0; i < count; i++)
        {
            var candidate = instances[(int)((start + (uint)i) % (uint)count)];
            if (request.IsEligible(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
