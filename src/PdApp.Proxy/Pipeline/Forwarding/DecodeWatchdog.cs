namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>Which decode deadline a <see cref="DecodeWatchdog"/> enforced.</summary>
public enum DecodeDeadline
{
    /// <summary>Nothing fired.</summary>
    None,

    /// <summary>D sent no response headers within the header wait.</summary>
    Headers,

    /// <summary>D's body went silent for longer than the idle timeout.</summary>
    Idle,

    /// <summary>The proxy's shutdown deadline arrived (<see cref="ShutdownDeadline"/>).</summary>
    Shutdown,
}

/// <summary>
/// The one timer of a decode relay. <see cref="UpstreamDeadlineHandler"/> arms it with the header
/// wait while the request is sent and disarms it when D's headers arrive; the body guard then
/// re-arms it with the idle timeout for every read and disarms it while the chunk goes to the
/// client (a slow client is not D's silence). The token handed out is never YARP's own, so firing
/// it fails only the call in flight, and the relay decides what the client sees.
/// </summary>
public sealed class DecodeWatchdog : IDisposable
{
    private readonly CancellationTokenSource _timer = new();
    private readonly TimeSpan _headerWait;
    private readonly TimeSpan _idle;
    private DecodeDeadline _armed;

    /// <summary>Creates a disarmed watchdog.</summary>
    /// <param name="headerWait">The wait for D's response headers.</param>
    /// <param name="idle">The longest silence between body reads.</param>
    public DecodeWatchdog(TimeSpan headerWait, TimeSpan idle)
    {
        _headerWait = headerWait;
        _idle = idle;
    }

    /// <summary>Which deadline fired, or <see cref="DecodeDeadline.None"/>.</summary>
    public DecodeDeadline Fired => _timer.IsCancellationRequested ? _armed : DecodeDeadline.None;

    /// <summary>Arms the header wait.</summary>
    /// <returns>The token that the header wait cancels.</returns>
    public CancellationToken ArmForHeaders() => Arm(DecodeDeadline.Headers, _headerWait);

    /// <summary>Arms the idle timeout for one body read.</summary>
    /// <returns>The token that the idle timeout cancels.</returns>
    public CancellationToken ArmForRead() => Arm(DecodeDeadline.Idle, _idle);

    /// <summary>Stops the clock (headers arrived, or a chunk is on its way to the client).</summary>
    public void Disarm() => _timer.TryReset();

    /// <summary>Fires at once when <paramref name="token"/> is cancelled (the relay's or client's cancellation).</summary>
    /// <param name="token">The token to follow.</param>
    /// <returns>The registration; dispose it to stop following.</returns>
    public CancellationTokenRegistration Follow(CancellationToken token) =>
        token.UnsafeRegister(static state => ((DecodeWatchdog)state!).CancelNow(), this);

    /// <summary>Fires at once, as <see cref="DecodeDeadline.Shutdown"/>, when <paramref name="deadline"/> is cancelled.</summary>
    /// <param name="deadline">The proxy's shutdown deadline.</param>
    /// <returns>The registration; dispose it to stop following.</returns>
    public CancellationTokenRegistration FollowShutdown(CancellationToken deadline) =>
        deadline.UnsafeRegister(static state => ((DecodeWatchdog)state!).ShutDownNow(), this);

    /// <inheritdoc />
    public void Dispose() => _timer.Dispose();

    private void ShutDownNow()
    {
        _armed = DecodeDeadline.Shutdown;
        _timer.Cancel();
    }

    private CancellationToken Arm(DecodeDeadline deadline, TimeSpan after)
    {
        // TryReset fails only once fired; the caller then sees the cancelled token.
        if (_timer.TryReset())
        {
            _armed = deadline;
            _timer.CancelAfter(after);
        }

        return _timer.Token;
    }

    private void CancelNow()
    {
        // Not a deadline: the caller's own token explains the cancellation.
        _armed = DecodeDeadline.None;
        _timer.Cancel();
    }
}
