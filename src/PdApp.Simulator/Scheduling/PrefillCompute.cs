using PdApp.Simulator.Configuration;

namespace PdApp.Simulator.Scheduling;

/// <summary>
/// The instance's prefill compute, shared by every prompt it prefills (<c>--prefill-contention</c>).
/// vLLM's scheduler runs one engine step at a time and fills each step's token budget
/// (<c>--max-num-batched-tokens</c>) with chunks of the waiting prompts in arrival order, so
/// concurrent prefills do not run side by side at full speed: the instance computes prompt tokens
/// at one rate (1 / <c>--prefill-time-per-token</c>), oldest prompt first, and a prompt's prefill
/// ends once its own uncached tokens and those of every prompt admitted before it are computed.
/// With step time linear in the tokens computed, the size of the step budget does not change when
/// a prompt finishes, only this queueing does, so the model keeps a single "busy until" instant.
/// Without contention (the default) each prefill takes its own time as if it ran alone.
/// </summary>
internal sealed class PrefillCompute(SimulatorOptions options, TimeProvider time)
{
    private readonly object _gate = new();
    private readonly bool _enabled = options.Timing.PrefillContention;
    private readonly double _perTokenMs = options.Timing.PrefillTimePerTokenMs;
    private long _busyUntil;

    /// <summary>Whether prefills share the budget.</summary>
    public bool Enabled => _enabled;

    /// <summary>
    /// Queues <paramref name="tokens"/> uncached prompt tokens and returns how long until they are
    /// computed: their own compute time, plus, with contention, the compute still owed to prompts
    /// queued earlier.
    /// </summary>
    public TimeSpan Reserve(int tokens)
    {
        var own = TimeSpan.FromMilliseconds(_perTokenMs * Math.Max(0, tokens));
        if (!_enabled)
        {
            return own;
        }

        var now = time.GetTimestamp();
        lock (_gate)
        {
            var start = Math.Max(now, _busyUntil);
            var end = start + (long)Math.Round(own.Ticks * (double)time.TimestampFrequency / TimeSpan.TicksPerSecond);
            _busyUntil = end;
            return ToTimeSpan(end - now);
        }
    }

    /// <summary>Compute time still owed to queued prompts (0 when idle or without contention).</summary>
    public TimeSpan Backlog
    {
        get
        {
            if (!_enabled)
            {
                return TimeSpan.Zero;
            }

            var now = time.GetTimestamp();
            lock (_gate)
            {
                return _busyUntil > now ? ToTimeSpan(_busyUntil - now) : TimeSpan.Zero;
            }
        }
    }

    private TimeSpan ToTimeSpan(long timestampDelta) =>
        TimeSpan.FromTicks((long)Math.Round(timestampDelta * (double)TimeSpan.TicksPerSecond / time.TimestampFrequency));
}
