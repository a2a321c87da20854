using Microsoft.Extensions.Configuration;

namespace PdApp.Hosting.Topology;

/// <summary>
/// <c>Pd:KvEvents</c>: the engines publish their prefix caches' KV events (vLLM <c>--kv-events-config</c>, ZeroMQ
/// PUB plus a ROUTER replay socket) for the proxy's KV-cache-aware routing. Each engine gets its own ports
/// (<see cref="BasePort"/> onwards, one or two per instance in layout order), declared as endpoints the dashboard
/// shows and the proxy is pointed at (<c>Pd:Proxy:KvCache:Endpoints:{instance}</c>).
/// </summary>
public sealed class PdKvEventsOptions
{
    /// <summary>The configuration path of this section.</summary>
    public const string SectionPath = "Pd:KvEvents";

    /// <summary>vLLM's default PUB port (<c>tcp://*:5557</c>).</summary>
    public const int DefaultBasePort = 5557;

    /// <summary>
    /// <c>Pd:KvEvents:Enabled</c>: publish KV events. Unset (default): on exactly when the proxy uses them
    /// (<c>Pd:Proxy:Balancing:Prefill</c> or <c>:Decode</c> is <c>KvAware</c>, <c>Pd:Proxy:KvCache:Enabled</c> is true, or
    /// <c>Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens</c> is set). External instances are never given flags.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary><c>Pd:KvEvents:BasePort</c>: the first instance's PUB port (default 5557); the next ports go to the next instances.</summary>
    public int BasePort { get; set; } = DefaultBasePort;

    /// <summary>
    /// <c>Pd:KvEvents:Replay</c>: give each instance a ROUTER replay endpoint on the port after its PUB port (default
    /// true), so the proxy recovers missed batches after a gap instead of dropping the instance's entries.
    /// </summary>
    public bool Replay { get; set; } = true;

    /// <summary>
    /// <c>Pd:KvEvents:BlockSize</c>: <c>--block-size</c> for every engine and the proxy's <c>Pd:Proxy:KvCache:BlockSize</c>,
    /// which must agree; unset: both keep their default (16).
    /// </summary>
    public int? BlockSize { get; set; }

    /// <summary>
    /// <c>Pd:KvEvents:PrefixCachingHashAlgo</c>: <c>--prefix-caching-hash-algo</c> (e.g. <c>sha256_cbor</c>, stable across
    /// processes and languages); unset: the engine's default. The proxy keys blocks by their token ids, so any algorithm works.
    /// </summary>
    public string? PrefixCachingHashAlgo { get; set; }

    /// <summary>Whether the proxy's own settings (<c>Pd:Proxy:*</c>) route on the KV cache; set by <see cref="PdOptionsLoader"/>.</summary>
    public bool ProxyUsesKvCache { get; internal set; }

    /// <summary>Ports each instance takes: the PUB port, and the replay port after it when <see cref="Replay"/> is on.</summary>
    public int PortsPerInstance => Replay ? 2 : 1;

    /// <summary>Whether engines publish KV events: <see cref="Enabled"/>, else <see cref="ProxyUsesKvCache"/>.</summary>
    public bool IsEnabled => Enabled ?? ProxyUsesKvCache;

    /// <summary>Whether the proxy settings in <paramref name="pd"/> (the <c>Pd</c> section) route on the engines' KV caches.</summary>
    /// <param name="pd">The <c>Pd</c> section.</param>
    /// <returns>True for a <c>KvAware</c> policy, an enabled <c>Pd:Proxy:KvCache</c> or a cache-aware PD threshold.</returns>
    internal static bool ProxyRoutesOnKvCache(IConfigurationSection pd)
    {
        var proxy = pd.GetSection("Proxy");
        return IsKvAware(proxy["Balancing:Prefill"])
            || IsKvAware(proxy["Balancing:Decode"])
            || (bool.TryParse(proxy["KvCache:Enabled"], out var enabled) && enabled)
            || (int.TryParse(proxy["Disaggregation:SkipPrefillBelowUncachedTokens"], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var below) && below > 0);

        static bool IsKvAware(string? policy) => string.Equals(policy, "KvAware", StringComparison.OrdinalIgnoreCase);
    }
}
