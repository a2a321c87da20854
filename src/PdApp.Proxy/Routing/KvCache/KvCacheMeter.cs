using System.Diagnostics.Metrics;
using PdApp.Protocol.KvEvents;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// The meter <c>pdapp.proxy.kvcache</c>: the KV event indexer's health (events and batches applied,
/// lag behind the engines, gaps, replays, restarts, index size) and the <c>KvAware</c> decisions
/// (routed on the cache or fallen back, and why; prefill skipped because decode holds the prompt).
/// </summary>
public sealed class KvCacheMeter
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "pdapp.proxy.kvcache";

    private readonly Counter<long> _events;
    private readonly Counter<long> _ignored;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _gaps;
    private readonly Counter<long> _replays;
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _decodeErrors;
    private readonly Counter<long> _forgotten;
    private readonly Counter<long> _notIndexed;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _pdDecisions;
    private readonly Counter<long> _tokenizations;
    private readonly Counter<long> _prefixChecks;
    private KvBlockIndex? _index;
    private LruCache<TokenizedPrompt>? _tokenizationCache;
    private LruCache<ChatPrefixTokenizations.PrefixEntry>? _prefixCache;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public KvCacheMeter(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _events = Meter.CreateCounter<long>("pdapp.proxy.kvcache.events", "{event}", "KV events applied to the index, by type.");
        _ignored = Meter.CreateCounter<long>("pdapp.proxy.kvcache.events.ignored", "{event}", "KV events the index could not use, by reason.");
        _batches = Meter.CreateCounter<long>("pdapp.proxy.kvcache.batches", "{batch}", "KV event batches received.");
        _gaps = Meter.CreateCounter<long>("pdapp.proxy.kvcache.gaps", "{gap}", "Sequence gaps seen on an instance's event stream.");
        _replays = Meter.CreateCounter<long>("pdapp.proxy.kvcache.replays", "{replay}", "Replays asked from an instance, by outcome.");
        _restarts = Meter.CreateCounter<long>("pdapp.proxy.kvcache.restarts", "{restart}", "Instances whose sequence restarted (their entries were dropped).");
        _decodeErrors = Meter.CreateCounter<long>("pdapp.proxy.kvcache.decode_errors", "{message}", "Messages that were not vLLM KV event batches.");
        _forgotten = Meter.CreateCounter<long>("pdapp.proxy.kvcache.blocks.forgotten", "{block}", "Blocks dropped to keep an instance within MaxBlocksPerInstance.");
        _notIndexed = Meter.CreateCounter<long>("pdapp.proxy.kvcache.instances.not_indexed", "{batch}", "Batches of instances beyond the index's 64.");
        _lag = Meter.CreateHistogram<double>(
            "pdapp.proxy.kvcache.lag", "s", "Time from an engine's batch timestamp to its application in the index.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _decisions = Meter.CreateCounter<long>("pdapp.proxy.kvcache.decisions", "{decision}", "KvAware choices, by role and outcome (cache, or the fallback's reason).");
        _pdDecisions = Meter.CreateCounter<long>("pdapp.proxy.kvcache.pd_decisions", "{request}", "Cache-aware PD decisions, by reason.");
        _tokenizations = Meter.CreateCounter<long>(
            "pdapp.proxy.kvcache.tokenizations", "{request}", "Request tokenizations, by source: cache (hit), prefix (a known chat prefix's keys), engine (miss), failed.");
        _prefixChecks = Meter.CreateCounter<long>(
            "pdapp.proxy.kvcache.prefix_checks", "{check}", "Known chat prefixes checked against the engine's tokenization, by outcome (match, mismatch).");
        Meter.CreateObservableGauge(
            "pdapp.proxy.kvcache.tokenization_cache.entries", () => (_tokenizationCache?.Count ?? 0) + (_prefixCache?.Count ?? 0), "{entry}", "Tokenizations and chat prefixes cached.");
        Meter.CreateObservableGauge(
            "pdapp.proxy.kvcache.tokenization_cache.bytes", () => (_tokenizationCache?.Bytes ?? 0) + (_prefixCache?.Bytes ?? 0), "By", "Estimated bytes the tokenization caches hold.");
        Meter.CreateObservableCounter(
            "pdapp.proxy.kvcache.tokenization_cache.evictions", () => (_tokenizationCache?.Evictions ?? 0) + (_prefixCache?.Evictions ?? 0), "{entry}", "Entries evicted from the tokenization caches (least recently used).");
        Meter.CreateObservableGauge("pdapp.proxy.kvcache.index.blocks", () => _index?.Blocks ?? 0, "{block}", "Blocks indexed, over all instances.");
        Meter.CreateObservableGauge("pdapp.proxy.kvcache.index.keys", () => _index?.Keys ?? 0, "{block}", "Distinct block keys indexed.");
        Meter.CreateObservableGauge("pdapp.proxy.kvcache.index.instances", () => _index?.Instances ?? 0, "{instance}", "Instances with indexed events.");
    }

    /// <summary>The meter.</summary>
    public Meter Meter { get; }

    internal void ObserveIndex(KvBlockIndex index) => _index = index;

    internal void EventApplied(KvCacheEvent kvEvent) => _events.Add(1, new KeyValuePair<string, object?>("type", kvEvent.GetType().Name));

    internal void EventIgnored(string reason) => _ignored.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void BatchReceived(double lagSeconds)
    {
        _batches.Add(1);
        _lag.Record(Math.Max(0, lagSeconds));
    }

    internal void Gap() => _gaps.Add(1);

    internal void Replay(string outcome) => _replays.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    internal void Restart() => _restarts.Add(1);

    internal void DecodeError() => _decodeErrors.Add(1);

    internal void BlockForgotten() => _forgotten.Add(1);

    internal void InstanceNotIndexed() => _notIndexed.Add(1);

    internal void Decision(string role, string outcome) =>
        _decisions.Add(1, new KeyValuePair<string, object?>("role", role), new KeyValuePair<string, object?>("outcome", outcome));

    internal void PdDecision(string reason) => _pdDecisions.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void ObserveTokenizationCache(LruCache<TokenizedPrompt> cache, LruCache<ChatPrefixTokenizations.PrefixEntry>? prefixes)
    {
        _tokenizationCache = cache;
        _prefixCache = prefixes;
    }

    internal void PrefixCheck(bool matched) => _prefixChecks.Add(1, new KeyValuePair<string, object?>("outcome", matched ? "match" : "mismatch"));

    internal void Tokenization(string source) => _tokenizations.Add(1, new KeyValuePair<string, object?>("source", source));
}
