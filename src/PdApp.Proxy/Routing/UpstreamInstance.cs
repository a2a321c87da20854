using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>
/// One prefill or decode engine the proxy can send requests to, with the live state the
/// balancing policies read (outstanding requests, health, drain, ejection).
/// </summary>
public sealed class UpstreamInstance
{
    private int _outstanding;
    private long _pendingPrefillTokens;
    private long _pendingBlocks;
    private int _estimatedCalls;
    private volatile bool _isHealthy = true;
    private volatile bool _isVerified;
    private volatile bool _isDraining;
    private volatile bool _removeWhenDrained;
    private volatile InstanceLoad? _load;

    // UTC ticks, 0 when not ejected: a DateTimeOffset? could be read torn while the passive
    // health tracker writes it, a long is read and written atomically.
    private long _ejectedUntilTicks;

    // Replaced after each outage, never disposed: calls may still hold the old token.
    private CancellationTokenSource _outage = new();

    // Made on first use (see DestinationPrefix and AddressOf).
    private string? _destinationPrefix;
    private (string Path, Uri Address)[] _addresses = [];

    /// <summary>Creates an instance.</summary>
    /// <param name="name">Unique name (the app host's resource name, e.g. <c>prefill-0</c>, or the registered address).</param>
    /// <param name="role">Role in the PD pair.</param>
    /// <param name="baseAddress">Resolved HTTP base address, e.g. <c>http://127.0.0.1:8100/</c>.</param>
    /// <param name="source">Where the instance came from.</param>
    /// <param name="kvAddress">The instance's KV address <c>host:port</c> (P2pNccl ZMQ address), if known.</param>
    public UpstreamInstance(string name, PdRole role, Uri baseAddress, InstanceSource source, string? kvAddress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(baseAddress);
        Name = name;
        Role = role;
        BaseAddress = baseAddress;
        Source = source;
        KvAddress = kvAddress;
    }

    /// <summary>Unique name.</summary>
    public string Name { get; }

    /// <summary>Role in the PD pair.</summary>
    public PdRole Role { get; }

    /// <summary>HTTP base address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Where the instance came from.</summary>
    public InstanceSource Source { get; }

    /// <summary>
    /// <see cref="BaseAddress"/> without its trailing slash (YARP's destination prefix), made once
    /// rather than on every call.
    /// </summary>
    public string DestinationPrefix => _destinationPrefix ??= BaseAddress.AbsoluteUri.TrimEnd('/');

    /// <summary>
    /// The absolute address of <paramref name="path"/> (an API path such as <c>/v1/completions</c>) on
    /// this instance, parsed once per path: every request to the instance shares the immutable <see cref="Uri"/>.
    /// </summary>
    /// <param name="path">The path, starting with <c>/</c>.</param>
    /// <returns>The address.</returns>
    public Uri AddressOf(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var known = Volatile.Read(ref _addresses);
        foreach (var (knownPath, address) in known)
        {
            if (string.Equals(knownPath, path, StringComparison.Ordinal))
            {
                return address;
            }
        }

        // A handful of paths per instance: copy on write, and a lost race only parses twice.
        var added = new Uri(DestinationPrefix + path, UriKind.Absolute);
        Volatile.Write(ref _addresses, [.. known, (path, added)]);
        return added;
    }

    /// <summary>KV address <c>host:port</c> (P2pNccl ZMQ address, an LMCache receiver's init address), if known.</summary>
    public string? KvAddress { get; }

    /// <summary>An LMCache receiver's allocation port of rank 0 (<c>Pd:Instances:{i}:KvAllocPort</c>), if configured.</summary>
    public int? KvAllocPort { get; init; }

    /// <summary>An LMCache receiver's tensor-parallel ranks (<c>Pd:Instances:{i}:KvRanks</c>), if configured.</summary>
    public int? KvRanks { get; init; }

    /// <summary>Requests currently in flight on this instance.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>
    /// Uncached prompt tokens of this proxy's calls in flight here, as the <c>KvAware</c> policy
    /// estimated them when it chose the instance: what the engine must still prefill for them
    /// (released when each call's lease ends; 0 under other policies).
    /// </summary>
    public long PendingPrefillTokens => Volatile.Read(ref _pendingPrefillTokens);

    /// <summary>
    /// KV blocks of the sequences this proxy is running here (their prompts' blocks), as the
    /// <c>KvAware</c> decode policy charged them (released when each call's lease ends; 0 under other policies).
    /// </summary>
    public long PendingBlocks => Volatile.Read(ref _pendingBlocks);

    /// <summary>Calls in flight here whose work a policy estimated (<see cref="PendingPrefillTokens"/>, <see cref="PendingBlocks"/>); the rest of <see cref="Outstanding"/> is of unknown size.</summary>
    internal int EstimatedCalls => Volatile.Read(ref _estimatedCalls);

    /// <summary>Result of the last active health check (true until the first check says otherwise).</summary>
    public bool IsHealthy
    {
        get => _isHealthy;
        set => _isHealthy = value;
    }

    /// <summary>
    /// Whether the instance has proven it serves: a health probe or a request to it succeeded.
    /// Configured instances are routed to optimistically before that, but the proxy reports itself
    /// ready only once instances are verified (an engine still loading its model is not).
    /// </summary>
    public bool IsVerified
    {
        get => _isVerified;
        internal set => _isVerified = value;
    }

    /// <summary>Draining: finishes what it has, gets nothing new.</summary>
    public bool IsDraining
    {
        get => _isDraining;
        set => _isDraining = value;
    }

    /// <summary>Ejected by passive health checking until this time (UTC), or null.</summary>
    public DateTimeOffset? EjectedUntil
    {
        get => Volatile.Read(ref _ejectedUntilTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        set => Volatile.Write(ref _ejectedUntilTicks, value?.UtcTicks ?? 0);
    }

    /// <summary>
    /// The engine's last scraped load (running, waiting, KV cache usage), or null until a scraper
    /// sets it; the <c>LoadAware</c> balancing policy falls back to <see cref="Outstanding"/> without it.
    /// </summary>
    public InstanceLoad? Load
    {
        get => _load;
        set => _load = value;
    }

    /// <summary>
    /// Set by <c>DELETE /admin/instances/{name}?drain=true</c>: the instance drains and is removed
    /// from the registry once its last in-flight request ends.
    /// </summary>
    public bool RemoveWhenDrained
    {
        get => _removeWhenDrained;
        internal set => _removeWhenDrained = value;
    }

    /// <summary>Whether new requests may be sent here at <paramref name="now"/>.</summary>
    /// <param name="now">The current time.</param>
    /// <returns>True when healthy, not draining and not ejected.</returns>
    public bool IsAvailable(DateTimeOffset now) =>
        _isHealthy && !_isDraining && Volatile.Read(ref _ejectedUntilTicks) <= now.UtcTicks;

    /// <summary>Whether the instance is available and has proven it serves (<see cref="IsVerified"/>).</summary>
    /// <param name="now">The current time.</param>
    /// <returns>True when it counts towards the proxy's readiness.</returns>
    public bool IsReady(DateTimeOffset now) => _isVerified && IsAvailable(now);

    /// <summary>Whether the instance can serve <paramref name="role"/> (a <see cref="PdRole.Both"/> instance serves either).</summary>
    /// <param name="role">Requested role.</param>
    /// <returns>True when it can.</returns>
    public bool Serves(PdRole role) => Role == role || Role == PdRole.Both;

    /// <summary>
    /// Cancelled when the instance is found down while calls are in flight (an active probe turned
    /// it unhealthy, or passive health checking ejected it): a call still waiting for its first
    /// byte stops waiting and is retried elsewhere, instead of sitting out its whole timeout.
    /// </summary>
    public CancellationToken OutageToken => Volatile.Read(ref _outage).Token;

    /// <summary>Fails the calls in flight that follow <see cref="OutageToken"/>; later calls get a fresh token.</summary>
    internal void SignalOutage() => Interlocked.Exchange(ref _outage, new CancellationTokenSource()).Cancel();

    internal void Acquire(InstanceWork? work = null)
    {
        Interlocked.Increment(ref _outstanding);
        AddWork(work, 1);
    }

    internal void Release(InstanceWork? work = null)
    {
        AddWork(work, -1);
        Interlocked.Decrement(ref _outstanding);
    }

    private void AddWork(InstanceWork? estimate, int sign)
    {
        if (estimate is not { } work)
        {
            return;
        }

        Interlocked.Add(ref _estimatedCalls, sign);
        if (work.PrefillTokens != 0)
        {
            Interlocked.Add(ref _pendingPrefillTokens, sign * (long)work.PrefillTokens);
        }

        if (work.Blocks != 0)
        {
            Interlocked.Add(ref _pendingBlocks, sign * (long)work.Blocks);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Role}, {BaseAddress})";
}
