using PdApp.Proxy.Routing.KvCache;

namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// Routes on the engines' real prefix caches (llm-d's precise prefix-cache scorer, Dynamo's KV
/// router): for each eligible instance, the share of the prompt's blocks it holds as a leading run
/// (<see cref="KvBlockIndex.Match"/>), weighed against its load:
/// <c>score = CacheWeight x cached share - LoadWeight x load / (mean load + 1) - KvUsageWeight x KV usage</c>,
/// where load is this proxy's outstanding requests plus the engine's scraped waiting requests. The
/// load term is relative to the mean, so a hot prefix spills to other instances once its holder is
/// well above average, like bounded-load consistent hashing. Ties go to fewer outstanding requests.
/// The chosen instance counts as holding the prompt's blocks for <c>PendingSeconds</c>
/// (<see cref="KvBlockIndex.NotePending"/>), so requests sharing a prefix follow the first one
/// before its prefill is done and its events arrive.
/// Without block keys, or when no eligible instance has fresh events, it uses
/// <paramref name="fallback"/> (least outstanding) and counts why.
/// </summary>
internal sealed class KvAwarePolicy(KvAwareServices kvCache, string role, IBalancingPolicy fallback) : IBalancingPolicy
{
    private const int StackLimit = 128;

    public UpstreamInstance? Choose(in SelectionRequest request)
    {
        var keys = request.Context.KvBlockKeys;
        var instances = request.Instances;
        if (keys is null || keys.Count == 0 || instances.Count == 0)
        {
            kvCache.Meter.Decision(role, "no_keys");
            return fallback.Choose(request);
        }

        Span<int> matched = instances.Count <= StackLimit ? stackalloc int[instances.Count] : new int[instances.Count];
        ulong[] keySpan = keys as ulong[] ?? [.. keys];
        kvCache.Index.Match(keySpan, instances, matched);

        var eligible = 0;
        var fresh = 0;
        long totalLoad = 0;
        var why = "events_absent";
        for (var i = 0; i < instances.Count; i++)
        {
            var instance = instances[i];
            if (!request.IsEligible(instance))
            {
                continue;
            }

            eligible++;
            totalLoad += Load(instance, request.Now);
            if (kvCache.IsFresh(instance, request.Now, out var reason))
            {
                fresh++;
            }
            else
            {
                matched[i] = 0;
                why = reason == "events_stale" ? reason : why;
            }
        }

        if (fresh == 0)
        {
            kvCache.Meter.Decision(role, eligible == 0 ? "no_instance" : why);
            return fallback.Choose(request);
        }

        var options = kvCache.Options;
        var meanLoad = (double)totalLoad / eligible;
        UpstreamInstance? best = null;
        var bestScore = double.NegativeInfinity;
        var bestMatched = 0;
        for (var i = 0; i < instances.Count; i++)
        {
            var candidate = instances[i];
            if (!request.IsEligible(candidate))
            {
                continue;
            }

            var usage = candidate.Load is { } load && request.Now - load.ObservedAt < TimeSpan.FromSeconds(options.StaleSeconds) ? load.KvCacheUsage : 0;
            var score = (options.CacheWeight * matched[i] / keySpan.Length)
                - (options.LoadWeight * Load(candidate, request.Now) / (meanLoad + 1))
                - (options.KvUsageWeight * usage);
            if (best is null || score > bestScore || (score == bestScore && candidate.Outstanding < best.Outstanding))
            {
                best = candidate;
                bestScore = score;
                bestMatched = matched[i];
            }
        }

        if (best is not null)
        {
            kvCache.Index.NoteRouted(best.Name, request.Now);
            kvCache.Index.NotePending(best.Name, keySpan, request.Now);
            kvCache.Meter.Decision(role, bestMatched > 0 ? "cache_hit" : "cache_miss");
        }

        return best;
    }

    private long Load(UpstreamInstance instance, DateTimeOffset now) =>
        instance.Outstanding
        + (instance.Load is { } load && now - load.ObservedAt < TimeSpan.FromSeconds(kvCache.Options.StaleSeconds) ? load.Waiting : 0);
}
