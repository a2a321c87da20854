using PdApp.Protocol;
using PdApp.Proxy.Routing.KvCache;

namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// Routes on the engines' real prefix caches (llm-d's precise prefix-cache scorer, Dynamo's KV
/// router): for each eligible instance, the share of the prompt's tokens it holds as a leading run
/// of blocks (<see cref="KvBlockIndex.Match"/>), weighed against the work already sent there:
/// <c>score = CacheWeight x cached share - LoadWeight x work - RequestWeight x requests - WaitingWeight x waiting - KvUsageWeight x KV usage</c>.
/// The work is what the engine must still compute for this proxy's calls in flight, counted from
/// this policy's own decisions (<see cref="InstanceWork"/>, charged by the call's lease until it
/// ends): for prefill, their uncached prompt tokens (Dynamo's cost: the prompt's uncached blocks plus
/// the worker's active prefill blocks), for decode the KV blocks of the sequences running there,
/// each relative to the mean of the eligible instances plus this prompt's tokens (blocks). With
/// idle instances and both weights 1 a prefill instance's score is minus its estimated time to
/// first token in units of this prompt's full prefill; the default <c>LoadWeight</c> 0.5 values the
/// cache hits of later requests that a move would lose, and the mean keeps prefixes in place when
/// every instance is loaded (a move recomputes the prefix, adding load where it goes). It balances
/// compute, not cache footprint: see <c>bench/RESULTS.md</c> §7.5 for where that falls short. The
/// requests are this proxy's outstanding calls on the instance relative to the mean of the eligible
/// instances plus one: they spread sequences, and so conversations, which the work term alone lets
/// pile up where their tails are short (<c>bench/RESULTS.md</c> §7.6).
/// A call without an estimate (sent by the fallback) counts as
/// one prompt like this one, uncached. A long conversation thus stays with the instance holding it
/// while the work queued there costs less than recomputing it elsewhere, and many short tails do
/// not push it away, while a few long uncached prompts do. Waiting is the engine's scraped
/// <c>vllm:num_requests_waiting</c> (other proxies' requests too); KV usage its
/// <c>vllm:kv_cache_usage_perc</c>. Ties go to fewer outstanding requests.
/// The holder, the one instance caching more of the prompt than any other (a conversation's history, a
/// prefix only it computed), keeps the prompt unless it is clearly overloaded (<c>HolderLoadFactor</c>):
/// more outstanding requests than that factor times the mean including this one (consistent hashing
/// with bounded loads, as <see cref="PrefixAffinityPolicy"/>), or an estimated prefill (work in flight
/// plus this prompt's uncached part) that factor times the best other instance's. Without it the score
/// moved conversations whenever load differences outweighed their cached share, and each move
/// recomputes a history (<c>bench/RESULTS.md</c> §7.7).
/// The chosen instance counts as holding the prompt's blocks for <c>PendingSeconds</c>
/// (<see cref="KvBlockIndex.NotePending"/>), so requests sharing a prefix follow the first one
/// before its prefill is done and its events arrive.
/// Without block keys, or when no eligible instance has fresh events, it uses
/// <paramref name="fallback"/> (least outstanding) and counts why.
/// </summary>
internal sealed class KvAwarePolicy(KvAwareServices kvCache, PdRole role, IBalancingPolicy fallback) : IBalancingPolicy
{
    private const int StackLimit = 128;
    private readonly string _roleLabel = role.ToConfigName();

    public bool WeighsKvCache => true;

    public UpstreamInstance? Choose(in SelectionRequest request) => Choose(request, out _);

    public UpstreamInstance? Choose(in SelectionRequest request, out InstanceWork? work)
    {
        work = null;
        var keys = request.Context.KvBlockKeys;
        var instances = request.Instances;
        if (keys is null || keys.Count == 0 || instances.Count == 0)
        {
            kvCache.Meter.Decision(_roleLabel, "no_keys");
            return fallback.Choose(request);
        }

        Span<int> matched = instances.Count <= StackLimit ? stackalloc int[instances.Count] : new int[instances.Count];
        ulong[] keySpan = keys as ulong[] ?? [.. keys];
        kvCache.Index.Match(keySpan, instances, matched);

        // A reused chat prefix carries its keys only: the prompt is at least that long.
        var blockSize = kvCache.Index.BlockSize;
        var promptTokens = Math.Max(request.Context.KvPromptTokens, keySpan.Length * blockSize);
        var promptBlocks = (promptTokens + blockSize - 1) / blockSize;
        var decode = role == PdRole.Decode;

        var eligible = 0;
        var fresh = 0;
        var holder = -1;
        var holderMatched = 0;
        var runnerUpMatched = 0;
        double totalWork = 0;
        long totalOutstanding = 0;
        var why = "events_absent";
        for (var i = 0; i < instances.Count; i++)
        {
            var instance = instances[i];
            if (!request.IsEligible(instance))
            {
                continue;
            }

            eligible++;
            totalWork += Work(instance, decode, promptTokens, promptBlocks);
            totalOutstanding += instance.Outstanding;
            if (kvCache.IsFresh(instance, request.Now, out var reason))
            {
                fresh++;
                if (matched[i] > holderMatched)
                {
                    (runnerUpMatched, holderMatched, holder) = (holderMatched, matched[i], i);
                }
                else if (matched[i] > runnerUpMatched)
                {
                    runnerUpMatched = matched[i];
                }
            }
            else
            {
                matched[i] = 0;
                why = reason == "events_stale" ? reason : why;
            }
        }

        if (fresh == 0)
        {
            kvCache.Meter.Decision(_roleLabel, eligible == 0 ? "no_instance" : why);
            return fallback.Choose(request);
        }

        var options = kvCache.Options;
        var staleAfter = TimeSpan.FromSeconds(options.StaleSeconds);

        // Relative to the mean plus this prompt: with idle instances, work in units of this prompt (the
        // estimated time to first token); when every instance is loaded the differences weigh less, so
        // prefixes stay where they are cached (moving one recomputes it, which adds load: a spiral).
        var workUnit = (totalWork / eligible) + (decode ? promptBlocks : promptTokens);

        // Requests relative to the mean plus one (the previous load term): spreads sequences, and so the
        // conversations they belong to, which the work term alone lets pile up where their tails are short.
        var requestUnit = ((double)totalOutstanding / eligible) + 1;
        UpstreamInstance? best = null;
        var bestScore = double.NegativeInfinity;
        var bestCached = 0;
        for (var i = 0; i < instances.Count; i++)
        {
            var candidate = instances[i];
            if (!request.IsEligible(candidate))
            {
                continue;
            }

            var cached = Math.Min(promptTokens, matched[i] * blockSize);
            var (waiting, usage) = candidate.Load is { } load && request.Now - load.ObservedAt < staleAfter ? (load.Waiting, load.KvCacheUsage) : (0, 0.0);
            var score = (options.CacheWeight * cached / promptTokens)
                - (options.LoadWeight * Work(candidate, decode, promptTokens, promptBlocks) / workUnit)
                - (options.RequestWeight * candidate.Outstanding / requestUnit)
                - (options.WaitingWeight * waiting)
                - (options.KvUsageWeight * usage);
            if (best is null || score > bestScore || (score == bestScore && candidate.Outstanding < best.Outstanding))
            {
                best = candidate;
                bestScore = score;
                bestCached = cached;
            }
        }

        var kept = false;
        if (best is not null && holder >= 0 && holderMatched > runnerUpMatched && !ReferenceEquals(best, instances[holder])
            && !HolderOverloaded(request, instances[holder], matched, holder, eligible, totalOutstanding, decode, promptTokens, promptBlocks))
        {
            best = instances[holder];
            bestCached = Math.Min(promptTokens, holderMatched * blockSize);
            kept = true;
        }

        if (best is not null)
        {
            work = decode ? new InstanceWork(0, promptBlocks) : new InstanceWork(promptTokens - bestCached, 0);
            kvCache.Index.NoteRouted(best.Name, request.Now);
            kvCache.Index.NotePending(best.Name, keySpan, request.Now);
            kvCache.Meter.Decision(_roleLabel, kept ? "holder_kept" : bestCached > 0 ? "cache_hit" : "cache_miss");
        }

        return best;
    }

    // Clearly overloaded: above the bounded-load limit on requests, or its estimated prefill (work in flight plus
    // this prompt's uncached part; for decode, blocks) above the factor times the best other eligible instance's.
    private bool HolderOverloaded(
        in SelectionRequest request, UpstreamInstance holder, ReadOnlySpan<int> matched, int holderIndex, int eligible, long totalOutstanding,
        bool decode, int promptTokens, int promptBlocks)
    {
        var factor = kvCache.Options.HolderLoadFactor;
        if (factor <= 0 || holder.Outstanding + 1 > Math.Ceiling(factor * (totalOutstanding + 1) / eligible))
        {
            return true;
        }

        var blockSize = kvCache.Index.BlockSize;
        double Cost(UpstreamInstance instance, int matchedBlocks) => Work(instance, decode, promptTokens, promptBlocks)
            + (decode ? promptBlocks - Math.Min(promptBlocks, matchedBlocks) : promptTokens - Math.Min(promptTokens, matchedBlocks * blockSize));

        var holderCost = Cost(holder, matched[holderIndex]);
        var instances = request.Instances;
        for (var i = 0; i < instances.Count; i++)
        {
            if (i != holderIndex && request.IsEligible(instances[i]) && holderCost > factor * Cost(instances[i], matched[i]))
            {
                return true;
            }
        }

        return false;
    }

    // The work in flight on the instance, in the role's measure; calls without an estimate count as one such prompt.
    private static double Work(UpstreamInstance instance, bool decode, int promptTokens, int promptBlocks)
    {
        var unestimated = Math.Max(0, instance.Outstanding - instance.EstimatedCalls);
        return decode
            ? instance.PendingBlocks + ((double)unestimated * promptBlocks)
            : instance.PendingPrefillTokens + ((double)unestimated * promptTokens);
    }
}
