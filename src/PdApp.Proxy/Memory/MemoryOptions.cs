using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Memory;

/// <summary>
/// The idle memory trim, bound from <c>Pd:Proxy:Memory</c>. After a burst the runtime keeps the
/// memory it committed for it (GC regions, native allocations freed into glibc's arenas); once no
/// completion request has been in flight for <see cref="IdleSeconds"/> after a busy period, the
/// proxy runs one blocking, compacting, aggressive GC (which decommits the free regions) and, on
/// Linux with glibc, <c>malloc_trim(0)</c>, so an idle proxy's resident memory comes back down.
/// </summary>
public sealed class MemoryOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = ProxyOptions.Section + ":Memory";

    /// <summary>The key of <see cref="TrimWhenIdle"/>.</summary>
    public const string TrimWhenIdleKey = Section + ":" + nameof(TrimWhenIdle);

    /// <summary>The key of <see cref="IdleSeconds"/>.</summary>
    public const string IdleSecondsKey = Section + ":" + nameof(IdleSeconds);

    /// <summary>The key of <see cref="MinIntervalSeconds"/>.</summary>
    public const string MinIntervalSecondsKey = Section + ":" + nameof(MinIntervalSeconds);

    /// <summary>The key of <see cref="TrimNativeHeap"/>.</summary>
    public const string TrimNativeHeapKey = Section + ":" + nameof(TrimNativeHeap);

    /// <summary><c>Pd:Proxy:Memory:TrimWhenIdle</c>: trim after a busy period once idle (default true; false switches it off).</summary>
    public bool TrimWhenIdle { get; set; } = true;

    /// <summary>
    /// <c>Pd:Proxy:Memory:IdleSeconds</c>: how long no completion request may have started or been in
    /// flight before a trim (default 80). Health probes and scrapes do not count as requests. The default
    /// outlasts the upstream connection pool's idle timeout (SocketsHttpHandler's 60 s, plus its 15 s
    /// scavenging interval): a burst's pooled connections hold buffers until they close, and a trim
    /// before that gives back ~20 MB less after 1000 streams (bench/RESULTS.md 4.11).
    /// </summary>
    public double IdleSeconds { get; set; } = 80;

    /// <summary>
    /// <c>Pd:Proxy:Memory:MinIntervalSeconds</c>: the shortest time between two trims (default 300), so
    /// traffic that pauses just past <see cref="IdleSeconds"/> cannot make the proxy collect often.
    /// </summary>
    public double MinIntervalSeconds { get; set; } = 300;

    /// <summary>
    /// <c>Pd:Proxy:Memory:TrimNativeHeap</c>: also call glibc's <c>malloc_trim(0)</c> after the GC,
    /// returning the free pages of the native heap's arenas (default true; ignored where glibc is absent).
    /// </summary>
    public bool TrimNativeHeap { get; set; } = true;
}
