namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// Two distinct eligible instances at random, the one with fewer requests in flight (Mitzenmacher,
/// "The Power of Two Choices in Randomized Load Balancing"): nearly least-outstanding quality
/// without every proxy replica herding onto the same least-loaded instance.
/// </summary>
internal sealed class PowerOfTwoChoicesPolicy(Random random) : IBalancingPolicy
{
    public UpstreamInstance? Choose(in SelectionRequest request)
    {
        var instances = request.Instances;
        var eligible = 0;
        for (var i = 0; i < instances.Count; i++)
        {
            if (request.IsEligible(instances[i]))
            {
                eligible++;
            }
        }

        if (eligible == 0)
        {
            return null;
        }

        var first = random.Next(eligible);
        if (eligible == 1)
        {
            return NthEligible(request, first);
        }

        // A second, different rank: draw from the eligible count minus one and skip the first.
        var second = random.Next(eligible - 1);
        if (second >= first)
        {
            second++;
        }

        var a = NthEligible(request, first);
        var b = NthEligible(request, second);
        if (a is null || b is null)
        {
            // Availability changed between the two scans; either survivor will do.
            return a ?? b;
        }

        return b.Outstanding < a.Outstanding ? b : a;
    }

    private static UpstreamInstance? NthEligible(in SelectionRequest request, int rank)
    {
        var instances = request.Instances;
        for (var i = 0; i < instances.Count; i++)
        {
            if (request.IsEligible(instances[i]) && rank-- == 0)
            {
                return instances[i];
            }
        }

        return null;
    }
}
