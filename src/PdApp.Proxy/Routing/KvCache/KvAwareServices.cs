using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>What the <c>KvAware</c> policy and the cache-aware PD decision read: the index, its settings, its meter.</summary>
internal sealed class KvAwareServices(KvBlockIndex index, IOptions<KvCacheOptions> options, KvCacheMeter meter)
{
    public KvBlockIndex Index { get; } = index;

    public KvCacheOptions Options { get; } = options.Value;

    public KvCacheMeter Meter { get; } = meter;

    /// <summary>
    /// Whether <paramref name="instance"/>'s index is usable at <paramref name="now"/>: it has
    /// published events, and not been sent requests for <c>StaleSeconds</c> past its last event.
    /// </summary>
    public bool IsFresh(UpstreamInstance instance, DateTimeOffset now, out string reason)
    {
        if (Index.LastEventAt(instance.Name) is not { } lastEvent)
        {
            reason = "events_absent";
            return false;
        }

        var lastRouted = Index.LastRoutedAt(instance.Name);
        if (lastRouted is { } routed && routed - lastEvent > TimeSpan.FromSeconds(Options.StaleSeconds)
            && now - lastEvent > TimeSpan.FromSeconds(Options.StaleSeconds))
        {
            reason = "events_stale";
            return false;
        }

        reason = string.Empty;
        return true;
    }
}
