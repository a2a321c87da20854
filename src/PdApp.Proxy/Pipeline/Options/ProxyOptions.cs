namespace PdApp.Proxy.Pipeline.Options;

/// <summary>The proxy's own behaviour, bound from <c>Pd:Proxy</c>.</summary>
public sealed class ProxyOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Pd:Proxy";

    /// <summary>
    /// <c>Pd:Proxy:MaxRequestBodyBytes</c>: larger request bodies get 413 (default 16 MiB; long
    /// prompts are ~4 bytes per token, images in chat bodies are larger).
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// <c>Pd:Proxy:MaxRequestHeadersTotalBytes</c>: requests whose headers (names and values, as sent) are larger
    /// get 431 with an OpenAI error and the request id, default 32 KiB (Kestrel's own default). Kestrel is set to
    /// twice this, since its own 431 comes before any middleware and has no body; headers past twice the limit
    /// still get that bare 431.
    /// </summary>
    public int MaxRequestHeadersTotalBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// <c>Pd:Proxy:MaxRequestHeaderCount</c>: requests with more headers get 431 with an OpenAI error, default 100
    /// (Kestrel's default); Kestrel is set to twice this, as for <see cref="MaxRequestHeadersTotalBytes"/>.
    /// </summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>
    /// <c>Pd:Proxy:ShutdownTimeoutSeconds</c>: on shutdown the proxy stops accepting connections
    /// and lets in-flight streams finish for up to this long before aborting them (HostOptions.ShutdownTimeout).
    /// </summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>The drain delay when <see cref="ShutdownDrainDelaySeconds"/> is not set.</summary>
    public const double DefaultShutdownDrainDelaySeconds = 5;

    /// <summary>
    /// <c>Pd:Proxy:ShutdownDrainDelaySeconds</c>: on shutdown, keep listening this long with
    /// <c>/health</c> answering 503 (so orchestrators and load balancers see the drain and stop
    /// sending) before the listener closes; requests keep being served meanwhile. Unset:
    /// <see cref="DefaultShutdownDrainDelaySeconds"/> (a load balancer probing every few seconds sees
    /// the 503 before the port closes, as a Kubernetes <c>preStop</c> sleep of 5 s gives endpoints time
    /// to update), at most <see cref="ShutdownTimeoutSeconds"/>. Counts against <see cref="ShutdownTimeoutSeconds"/>.
    /// 0 closes the listener at once (the app host sets 0 for local runs, where no load balancer probes).
    /// </summary>
    public double? ShutdownDrainDelaySeconds { get; set; }

    /// <summary>The drain delay in effect: the setting, or the default capped at <see cref="ShutdownTimeoutSeconds"/>.</summary>
    public double EffectiveShutdownDrainDelaySeconds =>
        ShutdownDrainDelaySeconds ?? Math.Min(DefaultShutdownDrainDelaySeconds, Math.Max(0, ShutdownTimeoutSeconds));

    /// <summary>
    /// <c>Pd:Proxy:InlineSocketScheduling</c>: Kestrel runs the proxy's request code on the socket thread
    /// that read the request instead of queueing it to the thread pool (Kestrel's
    /// <c>SocketTransportOptions.UnsafePreferInlineScheduling</c>), one thread-pool hop less per read.
    /// Off by default: the request path is asynchronous throughout, but the socket threads are few (one
    /// on small machines) and shared by every connection, so CPU-heavy request work (parsing large bodies,
    /// KV-aware tokenization) would delay every other connection; bench/RESULTS.md 4.13 has the measurement.
    /// For the upstream connections' side set the runtime's <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>.
    /// </summary>
    public bool InlineSocketScheduling { get; set; }

    /// <summary><c>Pd:Proxy:Timeouts</c>.</summary>
    public TimeoutOptions Timeouts { get; set; } = new();

    /// <summary><c>Pd:Proxy:Disaggregation</c>.</summary>
    public DisaggregationOptions Disaggregation { get; set; } = new();

    /// <summary><c>Pd:Proxy:Admission</c>.</summary>
    public AdmissionOptions Admission { get; set; } = new();

    /// <summary><c>Pd:Proxy:Migration</c>.</summary>
    public MigrationOptions Migration { get; set; } = new();

    /// <summary>How request bodies are read (<c>Pd:Proxy:RequestBody</c>), before admission.</summary>
    public RequestBodyOptions RequestBody { get; set; } = new();
}

/// <summary>
/// Upstream timeouts, bound from <c>Pd:Proxy:Timeouts</c>. Read only by
/// <c>UpstreamTimeouts</c>, the one policy the channel, the prefill client and the decode relay use.
/// </summary>
public sealed class TimeoutOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = ProxyOptions.Section + ":Timeouts";

    /// <summary>The key of <see cref="ConnectSeconds"/>.</summary>
    public const string ConnectKey = Section + ":" + nameof(ConnectSeconds);

    /// <summary>The key of <see cref="PrefillSeconds"/>.</summary>
    public const string PrefillKey = Section + ":" + nameof(PrefillSeconds);

    /// <summary>The key of <see cref="PrefillFirstByteSeconds"/>.</summary>
    public const string PrefillFirstByteKey = Section + ":" + nameof(PrefillFirstByteSeconds);

    /// <summary>The key of <see cref="DecodeIdleSeconds"/>.</summary>
    public const string DecodeIdleKey = Section + ":" + nameof(DecodeIdleSeconds);

    /// <summary>The key of <see cref="DecodeNonStreamingSeconds"/>.</summary>
    public const string DecodeNonStreamingKey = Section + ":" + nameof(DecodeNonStreamingSeconds);

    /// <summary><c>Pd:Proxy:Timeouts:ConnectSeconds</c>: TCP connect to an instance (default 5).</summary>
    public double ConnectSeconds { get; set; } = 5;

    /// <summary>
    /// <c>Pd:Proxy:Timeouts:PrefillSeconds</c>: the whole prefill call, queueing on P included
    /// (default 300; a long prompt on a busy P can take minutes).
    /// </summary>
    public double PrefillSeconds { get; set; } = 300;

    /// <summary>
    /// <c>Pd:Proxy:Timeouts:PrefillFirstByteSeconds</c>: the longest wait for P's response headers,
    /// within <see cref="PrefillSeconds"/>; a shorter value moves a request off a P that accepted the
    /// connection but answers nothing sooner than the total would. 0 (default): only the total applies.
    /// </summary>
    public double PrefillFirstByteSeconds { get; set; }

    /// <summary>
    /// <c>Pd:Proxy:Timeouts:DecodeIdleSeconds</c>: the longest silence allowed from D on a streaming
    /// request, before its response headers and between stream chunks; not a total (generations may
    /// run for minutes). Default 120.
    /// </summary>
    public double DecodeIdleSeconds { get; set; } = 120;

    /// <summary>
    /// <c>Pd:Proxy:Timeouts:DecodeNonStreamingSeconds</c>: for non-streaming requests D sends nothing
    /// until the whole generation is done, so its silence is the generation time; this bounds the
    /// wait for its response (default 1800).
    /// </summary>
    public double DecodeNonStreamingSeconds { get; set; } = 1800;
}

/// <summary>How requests are split between prefill and decode, bound from <c>Pd:Proxy:Disaggregation</c>.</summary>
public sealed class DisaggregationOptions
{
    /// <summary>
    /// <c>Pd:Proxy:Disaggregation:SkipPrefillBelowTokens</c>: prompts estimated shorter than this go
    /// straight to D, which prefills them itself (a transfer costs more than computing a short
    /// prompt). 0 (default) disables. The estimate is cheap, not a tokenizer: token-id prompts are
    /// counted exactly, text is counted as UTF-16 characters / 4 (rounded up).
    /// Only for connectors where D can prefill alone (not PyNccl, P2pNccl).
    /// </summary>
    public int SkipPrefillBelowTokens { get; set; }

    /// <summary>
    /// <c>Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens</c>: the cache-aware PD decision. When
    /// a decode instance's prefix cache (known from its KV events, <c>Pd:Proxy:KvCache</c>) holds the
    /// prompt so that fewer than this many tokens remain uncached, the request goes to that decode
    /// instance alone (a second chat turn whose history it already holds). 0 (default) disables.
    /// Needs <c>Pd:Proxy:KvCache:Enabled</c> (or a <c>KvAware</c> policy); only for connectors where
    /// D can prefill alone.
    /// </summary>
    public int SkipPrefillBelowUncachedTokens { get; set; }

    /// <summary>
    /// <c>Pd:Proxy:Disaggregation:SkipPrefillMaxDecodeBacklogTokens</c>: the cache-aware decision sends
    /// a prompt to the decode instance holding it only while the prompt tokens that instance computes
    /// for this proxy's decode-alone calls in flight, this prompt's included, stay at or under this
    /// (default 2048, a step's worth of vLLM's chunked prefill); past it, P prefills (reason
    /// <c>decode_busy</c>). A decode that prefills slows every stream it runs, so without a bound a busy
    /// holder of many conversations gets ever more of them and its streams stall. 0 = no bound.
    /// </summary>
    public int SkipPrefillMaxDecodeBacklogTokens { get; set; } = DefaultSkipPrefillMaxDecodeBacklogTokens;

    /// <summary>The default of <see cref="SkipPrefillMaxDecodeBacklogTokens"/>.</summary>
    public const int DefaultSkipPrefillMaxDecodeBacklogTokens = 2048;

    /// <summary>
    /// <c>Pd:Proxy:Disaggregation:MaxPrefillResponseBytes</c>: P's response is read whole (it is one
    /// token plus <c>kv_transfer_params</c>); larger ones are treated as a prefill failure. Default 1 MiB.
    /// </summary>
    public int MaxPrefillResponseBytes { get; set; } = 1024 * 1024;
}

/// <summary>
/// Admission control in front of the PD flow, bound from <c>Pd:Proxy:Admission</c>; the .NET
/// counterpart of vLLM's example <c>request_queue.py</c> (concurrency + bounded queue) and
/// <c>rate_limiter.py</c> (requests per second). Rejections are 429 with <c>Retry-After</c>.
/// </summary>
public sealed class AdmissionOptions
{
    /// <summary><c>Pd:Proxy:Admission:MaxConcurrentRequests</c>: requests in PD flow at once (default 512).</summary>
    public int MaxConcurrentRequests { get; set; } = 512;

    /// <summary><c>Pd:Proxy:Admission:MaxQueueLength</c>: requests waiting for a slot (default 1024; 0 = reject at once).</summary>
    public int MaxQueueLength { get; set; } = 1024;

    /// <summary><c>Pd:Proxy:Admission:QueueTimeoutSeconds</c>: longest wait in the queue before 429 (default 30).</summary>
    public double QueueTimeoutSeconds { get; set; } = 30;

    /// <summary><c>Pd:Proxy:Admission:RequestsPerSecond</c>: sustained admission rate (token bucket); 0 (default) = unlimited.</summary>
    public double RequestsPerSecond { get; set; }

    /// <summary><c>Pd:Proxy:Admission:Burst</c>: token bucket size when a rate is set (default 0 = one second's worth).</summary>
    public int Burst { get; set; }

    /// <summary><c>Pd:Proxy:Admission:RetryAfterSeconds</c>: <c>Retry-After</c> sent when the queue is full or timed out (default 1).</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>
    /// <c>Pd:Proxy:Admission:RateLimitMode</c>: what a request over <see cref="RequestsPerSecond"/>
    /// gets: <see cref="RateLimitModes.Reject"/> (default, 429 at once) or
    /// <see cref="RateLimitModes.Wait"/> (waits in FIFO order for a token, as vLLM's example
    /// <c>rate_limiter.py</c> does, up to <see cref="RateLimitMaxWaitSeconds"/>).
    /// </summary>
    public string RateLimitMode { get; set; } = RateLimitModes.Reject;

    /// <summary>
    /// <c>Pd:Proxy:Admission:RateLimitMaxWaitSeconds</c>: in <see cref="RateLimitModes.Wait"/> mode,
    /// the longest wait for a token before 429 (default 30).
    /// </summary>
    public double RateLimitMaxWaitSeconds { get; set; } = 30;

    /// <summary>The key of <see cref="RateLimitMode"/>.</summary>
    public const string RateLimitModeKey = ProxyOptions.Section + ":Admission:" + nameof(RateLimitMode);

    /// <summary>The key of <see cref="RateLimitMaxWaitSeconds"/>.</summary>
    public const string RateLimitMaxWaitSecondsKey = ProxyOptions.Section + ":Admission:" + nameof(RateLimitMaxWaitSeconds);

    /// <summary>Whether <see cref="RateLimitMode"/> is <see cref="RateLimitModes.Wait"/>.</summary>
    public bool WaitsForRateLimit => string.Equals(RateLimitMode, RateLimitModes.Wait, StringComparison.OrdinalIgnoreCase);
}

/// <summary>The values of <c>Pd:Proxy:Admission:RateLimitMode</c>.</summary>
public static class RateLimitModes
{
    /// <summary>Over the rate: 429 with <c>Retry-After</c> at once.</summary>
    public const string Reject = "reject";

    /// <summary>Over the rate: wait in FIFO order for a token, up to <c>RateLimitMaxWaitSeconds</c>, then 429.</summary>
    public const string Wait = "wait";

    /// <summary>Whether <paramref name="value"/> is one of the modes (case-insensitive).</summary>
    /// <param name="value">The configured value.</param>
    /// <returns>Whether it is known.</returns>
    public static bool IsKnown(string? value) =>
        string.Equals(value, Reject, StringComparison.OrdinalIgnoreCase) || string.Equals(value, Wait, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Reading request bodies (<c>Pd:Proxy:RequestBody</c>). Bodies are read whole before admission,
/// so a slow upload holds no concurrency slot; these settings bound what slow uploads can hold instead.
/// </summary>
public sealed class RequestBodyOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = ProxyOptions.Section + ":RequestBody";

    /// <summary><c>Pd:Proxy:RequestBody:TimeoutSeconds</c>: longest time to receive a whole body, default 60; then 408.</summary>
    public double TimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// <c>Pd:Proxy:RequestBody:MinBytesPerSecond</c>: slowest accepted upload after the grace period,
    /// default 240 (Kestrel's default); slower: 408. 0 turns the check off.
    /// </summary>
    public double MinBytesPerSecond { get; set; } = 240;

    /// <summary><c>Pd:Proxy:RequestBody:MinRateGraceSeconds</c>: time before the minimum rate applies, default 5 (more than 1: Kestrel's heartbeat).</summary>
    public double MinRateGraceSeconds { get; set; } = 5;

    /// <summary>
    /// <c>Pd:Proxy:RequestBody:MaxConcurrentReads</c>: bodies being received at once, default 1024;
    /// more get 429 with <c>Retry-After</c> at once, as a full admission queue does.
    /// </summary>
    public int MaxConcurrentReads { get; set; } = 1024;
}
