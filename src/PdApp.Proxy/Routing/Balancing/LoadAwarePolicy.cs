namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// Load-aware choice from the engines' own gauges (<see cref="UpstreamInstance.Load"/>, scraped
/// from vLLM's <c>/metrics</c>): score = 2 x waiting + running + outstanding (this proxy's
/// requests in flight, which keeps the score moving between scrapes; requests the scrape already
/// counted are counted twice, a bias every instance shares), and an instance whose KV cache is at least 95 % full ranks after the
/// others, since vLLM preempts running sequences there. Queued requests weigh double because
/// they have not started: they add to every later request's time to first token. When any
/// eligible instance lacks a fresh reading the comparison would be unfair, so the policy uses
/// <paramref name="fallback"/> (least outstanding).
/// </summary>
internal sealed class LoadAwarePolicy(TimeSpan staleAfter, IBalancingPolicy fallback) : IBalancingPolicy
{
    private const double KvFullThreshold = 0.95;

    public UpstreamInstance? Choose(in SelectionRequest request)
    {
        UpstreamInstance? best = null;
        var bestFull = true;
        var bestScore = long.MaxValue;
        foreach (var candidate in request.Instances)
        {
            if (!request.IsEligible(candidate))
            {
                continue;
            }

            if (candidate.Load is not { } load || request.Now - load.ObservedAt > staleAfter)
            {
                return fallback.Choose(request);
            }

            var full = load.KvCacheUsage >= KvFullThreshold;
            var score = (2L * load.Waiting) + load.Running + candidate.Outstanding;
            if (best is null || (bestFull && !full) || (full == bestFull && score < bestScore))
            {
                best = candidate;
                bestFull = full;
                bestScore = score;
            }
        }

        return best;
    }
}
