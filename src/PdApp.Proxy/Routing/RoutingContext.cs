namespace PdApp.Proxy.Routing;

/// <summary>What a balancing policy may look at to choose an instance for one request.</summary>
/// <param name="RequestId">The request id.</param>
/// <param name="AffinityKey">
/// The prompt's prefix-affinity key: the stable hash of the rendered prompt's (all chat messages in
/// order, not only the first) first <c>Pd:Proxy:Balancing:PrefixLength</c> characters, computed once
/// when the request is parsed, so no prompt text is held for the stream's lifetime; null when the
/// request has none or no policy reads it.
/// </param>
/// <param name="Exclude">Instances not to choose (e.g. the prefill that just failed, on retry).</param>
public sealed record RoutingContext(string RequestId, ulong? AffinityKey, IReadOnlySet<UpstreamInstance>? Exclude = null)
{
    /// <summary>
    /// The prompt's block keys (<c>PdApp.Protocol.KvEvents.KvBlockHasher</c> over its token ids), for
    /// the <c>KvAware</c> policy; null when the request was not tokenized.
    /// </summary>
    public IReadOnlyList<ulong>? KvBlockKeys { get; init; }

    /// <summary>The prompt's token count as the engine tokenized it, when <see cref="KvBlockKeys"/> is set.</summary>
    public int KvPromptTokens { get; init; }

    /// <summary>
    /// Prompt tokens the decode instance computes itself for this request: a decode-alone request's
    /// uncached remainder, as the cache-aware PD decision estimated it. Charged to the chosen decode
    /// instance's <see cref="UpstreamInstance.PendingPrefillTokens"/> while the call runs, so the next
    /// decision sees that decode's backlog (0: decode only decodes, or the estimate is unknown).
    /// </summary>
    public int DecodePrefillTokens { get; init; }

    /// <summary>
    /// An instance that computed this prompt's prefix and so holds it in its prefix cache: a migrated
    /// request's continuation (the original prompt plus the text already relayed) names the prefill
    /// instance that prefilled the original, so it computes only the relayed part again. Chosen over
    /// the role's policy whenever it serves the role, is eligible and the policy does not weigh the
    /// engines' KV caches itself (<c>KvAware</c> reads them from the engines' events); null: none known.
    /// </summary>
    public UpstreamInstance? PrefixHolder { get; init; }
}
