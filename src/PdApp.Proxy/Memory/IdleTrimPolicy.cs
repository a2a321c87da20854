namespace PdApp.Proxy.Memory;

/// <summary>
/// When to trim: only after a busy period (some request since the last trim), once no request has
/// been in flight or started for <see cref="MemoryOptions.IdleSeconds"/>, and never sooner than
/// <see cref="MemoryOptions.MinIntervalSeconds"/> after the previous trim. Fed by periodic
/// observations of <see cref="InFlightRequests"/>; not thread-safe (one background loop owns it).
/// </summary>
internal sealed class IdleTrimPolicy
{
    private static readonly TimeSpan MaxCheckPeriod = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MinCheckPeriod = TimeSpan.FromMilliseconds(100);

    private readonly TimeSpan _idle;
    private readonly TimeSpan _minInterval;
    private readonly TimeProvider _time;
    private long _lastStarted;
    private long _lastActivity;
    private long? _lastTrim;
    private bool _busySinceTrim;

    /// <summary>Creates the policy.</summary>
    /// <param name="options">The validated options.</param>
    /// <param name="time">The clock.</param>
    public IdleTrimPolicy(MemoryOptions options, TimeProvider time)
    {
        _idle = TimeSpan.FromSeconds(options.IdleSeconds);
        _minInterval = TimeSpan.FromSeconds(options.MinIntervalSeconds);
        _time = time;
        _lastActivity = time.GetTimestamp();
        CheckPeriod = TimeSpan.FromTicks(Math.Clamp(_idle.Ticks / 4, MinCheckPeriod.Ticks, MaxCheckPeriod.Ticks));
    }

    /// <summary>How often to observe: a quarter of the idle time, between 0.1 and 5 s.</summary>
    public TimeSpan CheckPeriod { get; }

    /// <summary>Records an observation and says whether to trim now.</summary>
    /// <param name="inFlight">Requests in flight now.</param>
    /// <param name="started">Requests started so far.</param>
    /// <returns><see langword="true"/> when a trim is due (call <see cref="Trimmed"/> after it).</returns>
    public bool Observe(int inFlight, long started)
    {
        var now = _time.GetTimestamp();
        if (inFlight > 0 || started != _lastStarted)
        {
            _lastStarted = started;
            _lastActivity = now;
            _busySinceTrim = true;
            return false;
        }

        return _busySinceTrim
            && _time.GetElapsedTime(_lastActivity, now) >= _idle
            && (_lastTrim is not { } last || _time.GetElapsedTime(last, now) >= _minInterval);
    }

    /// <summary>Records that a trim ran now.</summary>
    public void Trimmed()
    {
        _lastTrim = _time.GetTimestamp();
        _busySinceTrim = false;
    }
}
