using System.Text.Json;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// What the request pipeline asks of the KV cache index: the prompt's block keys before an instance
/// is chosen (<see cref="PrepareAsync"/>), and the cache-aware PD decision (<see cref="TrySkipPrefill"/>):
/// a decode instance that already holds all but a few tokens of the prompt computes the rest itself,
/// as llm-d's prefix-based PD decider and Dynamo's maximum local prefill length do.
/// </summary>
public sealed class KvCacheRouting
{
    private readonly KvAwareServices _kvCache;
    private readonly EngineTokenizer _tokenizer;
    private readonly IInstanceRegistry _registry;
    private readonly bool _kvAwarePolicy;

    internal KvCacheRouting(KvAwareServices kvCache, EngineTokenizer tokenizer, IInstanceRegistry registry, IOptions<BalancingOptions> balancing)
    {
        _kvCache = kvCache;
        _tokenizer = tokenizer;
        _registry = registry;
        _kvAwarePolicy = balancing.Value.Prefill == BalancingPolicyKind.KvAware || balancing.Value.Decode == BalancingPolicyKind.KvAware;
    }

    /// <summary>Whether requests are tokenized: a <c>KvAware</c> policy is configured, or <paramref name="skipBelowUncachedTokens"/> is set.</summary>
    /// <param name="skipBelowUncachedTokens">The cache-aware PD threshold.</param>
    /// <returns>True when <see cref="PrepareAsync"/> should run.</returns>
    public bool IsActive(int skipBelowUncachedTokens) => _kvCache.Options.Enabled && (_kvAwarePolicy || skipBelowUncachedTokens > 0);

    /// <summary>Adds the prompt's block keys to <paramref name="routing"/> (unchanged when tokenization fails).</summary>
    /// <param name="routing">The request's routing facts.</param>
    /// <param name="body">The request body.</param>
    /// <param name="chat">Whether it is a chat request.</param>
    /// <param name="now">The time availability is judged at.</param>
    /// <param name="cancellationToken">The client's cancellation.</param>
    /// <returns>The routing facts with keys.</returns>
    public async ValueTask<RoutingContext> PrepareAsync(RoutingContext routing, JsonElement body, bool chat, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(routing);
        var engine = FirstAvailable(PdRole.Decode, now, routing.Exclude) ?? FirstAvailable(PdRole.Prefill, now, routing.Exclude);
        if (engine is null)
        {
            return routing;
        }

        var tokenized = await _tokenizer.TokenizeAsync(body, chat, engine, cancellationToken).ConfigureAwait(false);
        return tokenized is null ? routing : routing with { KvBlockKeys = tokenized.Keys, KvPromptTokens = tokenized.Tokens };
    }

    /// <summary>
    /// Whether the request should skip prefill: some available decode instance with fresh events (not
    /// one <see cref="RoutingContext.Exclude"/> names, such as a migrated request's failed decode) holds
    /// the prompt's leading blocks so that fewer than <paramref name="belowUncachedTokens"/> tokens
    /// remain to compute, and that instance is not already computing more than
    /// <paramref name="maxDecodeBacklogTokens"/> prompt tokens for this proxy's decode-alone calls
    /// (a decode that prefills streams slower for it: sending it every prompt it holds would stall its
    /// streams). Counted by reason (<c>pdapp.proxy.kvcache.pd_decisions</c>).
    /// </summary>
    /// <param name="routing">The request's routing facts (with keys).</param>
    /// <param name="belowUncachedTokens">The threshold; 0 disables.</param>
    /// <param name="maxDecodeBacklogTokens">
    /// The most prompt tokens of decode-alone calls in flight on the holder, this one's included; 0 = no bound.
    /// </param>
    /// <param name="now">The time availability is judged at.</param>
    /// <param name="decodeRouting">
    /// Routing that leaves only that decode instance eligible and charges it the uncached remainder
    /// (<see cref="RoutingContext.DecodePrefillTokens"/>).
    /// </param>
    /// <returns>True to send the request to decode alone.</returns>
    public bool TrySkipPrefill(RoutingContext routing, int belowUncachedTokens, int maxDecodeBacklogTokens, DateTimeOffset now, out RoutingContext decodeRouting)
    {
        ArgumentNullException.ThrowIfNull(routing);
        decodeRouting = routing;
        if (belowUncachedTokens <= 0)
        {
            return false;
        }

        if (routing.KvBlockKeys is not { Count: > 0 } keys)
        {
            _kvCache.Meter.PdDecision("no_keys");
            return false;
        }

        var decode = _registry.GetInstances(PdRole.Decode);
        Span<int> matched = decode.Count <= 128 ? stackalloc int[decode.Count] : new int[decode.Count];
        _kvCache.Index.Match(keys as ulong[] ?? [.. keys], decode, matched);
        UpstreamInstance? holder = null;
        var best = 0;
        var anyFresh = false;
        for (var i = 0; i < decode.Count; i++)
        {
            var instance = decode[i];
            if (routing.Exclude?.Contains(instance) == true || !instance.IsAvailable(now) || !_kvCache.IsFresh(instance, now, out _))
            {
                continue;
            }

            anyFresh = true;
            if (matched[i] > best || (matched[i] == best && holder is not null && instance.Outstanding < holder.Outstanding))
            {
                holder = instance;
                best = matched[i];
            }
        }

        if (!anyFresh)
        {
            _kvCache.Meter.PdDecision("events_absent");
            return false;
        }

        if (routing.KvPromptTokens <= 0)
        {
            // Keys of a reused chat prefix only: how much of the prompt remains uncached is not known.
            _kvCache.Meter.PdDecision("prompt_length_unknown");
            return false;
        }

        var uncached = routing.KvPromptTokens - (best * _kvCache.Index.BlockSize);
        if (holder is null || best == 0 || uncached >= belowUncachedTokens)
        {
            _kvCache.Meter.PdDecision("prefill_needed");
            return false;
        }

        var remainder = Math.Max(uncached, 0);
        if (maxDecodeBacklogTokens > 0 && holder.PendingPrefillTokens + remainder > maxDecodeBacklogTokens)
        {
            _kvCache.Meter.PdDecision("decode_busy");
            return false;
        }

        _kvCache.Meter.PdDecision("decode_holds_prompt");
        var others = new HashSet<UpstreamInstance>(decode.Where(d => !ReferenceEquals(d, holder)));
        if (routing.Exclude is { } excluded)
        {
            others.UnionWith(excluded);
        }

        decodeRouting = routing with { Exclude = others, DecodePrefillTokens = remainder };
        return true;
    }

    // Not an excluded instance: a migrated request's failed decode may still look available.
    private UpstreamInstance? FirstAvailable(PdRole role, DateTimeOffset now, IReadOnlySet<UpstreamInstance>? exclude)
    {
        foreach (var instance in _registry.GetInstances(role))
        {
            if (instance.IsAvailable(now) && exclude?.Contains(instance) != true)
            {
                return instance;
            }
        }

        return null;
    }
}
