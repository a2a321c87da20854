using System.Collections.Concurrent;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// One coarse clock for the idle deadlines of every decode relay in the process. A relay's body
/// guard only writes a deadline per read (<see cref="DecodeWatchdog.ArmForRead"/>); this sweeper
/// wakes every quarter of the shortest idle timeout it watches (at most once a second, at least
/// every 10 ms) and fires the watchdogs whose deadline has passed. Re-arming a timer per chunk
/// would touch the runtime's timer queue twice per token; here a token costs one memory write.
/// A silence is therefore detected between the timeout and a quarter of it later. The timer runs
/// only while some relay is watched.
/// </summary>
internal sealed class DecodeIdleSweeper
{
    private static readonly TimeSpan MaxPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinPeriod = TimeSpan.FromMilliseconds(10);

    private readonly ConcurrentDictionary<DecodeWatchdog, byte> _watched = new();
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private TimeSpan _period = MaxPeriod;
    private bool _running;

    private DecodeIdleSweeper() =>
        _timer = new Timer(static state => ((DecodeIdleSweeper)state!).Sweep(), this, Timeout.Infinite, Timeout.Infinite);

    /// <summary>The process's sweeper.</summary>
    public static DecodeIdleSweeper Shared { get; } = new();

    /// <summary>Starts watching <paramref name="watchdog"/> (until <see cref="Forget"/>).</summary>
    /// <param name="watchdog">The watchdog.</param>
    /// <param name="idle">Its idle timeout (sets how often the sweeper looks).</param>
    public void Watch(DecodeWatchdog watchdog, TimeSpan idle)
    {
        _watched.TryAdd(watchdog, 0);
        var period = TimeSpan.FromTicks(Math.Clamp(idle.Ticks / 4, MinPeriod.Ticks, MaxPeriod.Ticks));
        lock (_gate)
        {
            if (!_running || period < _period)
            {
                _period = _running ? TimeSpan.FromTicks(Math.Min(period.Ticks, _period.Ticks)) : period;
                _running = true;
                _timer.Change(_period, _period);
            }
        }
    }

    /// <summary>Stops watching <paramref name="watchdog"/>.</summary>
    /// <param name="watchdog">The watchdog.</param>
    public void Forget(DecodeWatchdog watchdog) => _watched.TryRemove(watchdog, out _);

    private void Sweep()
    {
        var now = Environment.TickCount64;
        foreach (var entry in _watched)
        {
            entry.Key.FireIfIdle(now);
        }

        if (_watched.IsEmpty)
        {
            lock (_gate)
            {
                // Checked again under the lock: Watch adds before it takes the lock.
                if (_watched.IsEmpty)
                {
                    _running = false;
                    _timer.Change(Timeout.Infinite, Timeout.Infinite);
                }
            }
        }
    }
}
