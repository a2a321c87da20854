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
/// With <see cref="TimingOptions.PrefillInterference"/> (default) decode shares the same steps: the
/// instance counts its decoding sequences (<see cref="EnterDecode"/>), and a decode step carries the
/// prefill chunk owed at that moment (<see cref="ChunkInNextStep"/>), as vLLM's mixed batches do.
/// </summary>
internal sealed class PrefillCompute(SimulatorOptions options, TimeProvider time)
{
    private readonly object _gate = new();
    private readonly bool _enabled = options.Timing.PrefillContention;
    private readonly double _perTokenMs = options.Timing.PrefillTimePerTokenMs;
    private readonly bool _interference = options.Timing.PrefillContention && options.Timing.PrefillInterference;
    private readonly TimeSpan _maxChunk = TimeSpan.FromMilliseconds(options.Timing.PrefillTimePerTokenMs * options.Timing.MaxNumBatchedTokens);
    private long _busyUntil;
    private int _decoding;

    /// <summary>Whether prefills share the budget.</summary>
    public bool Enabled => _enabled;

    /// <summary>Whether decode steps and prefill chunks share the engine's steps (contention and interference on).</summary>
    public bool Interference => _interference;

    /// <summary>Sequences decoding on this instance now (past their first token, more to generate).</summary>
    public int Decoding => Volatile.Read(ref _decoding);

    /// <summary>A sequence starts decoding; dispose the result when it stops.</summary>
    public DecodingScope EnterDecode()
    {
        Interlocked.Increment(ref _decoding);
        return new DecodingScope(this);
    }

    /// <summary>
    /// The prefill compute the next decode step carries: the compute owed now, at most one step's
    /// budget (<c>--max-num-batched-tokens</c> x <c>--prefill-time-per-token</c>); zero without interference.
    /// </summary>
    public TimeSpan ChunkInNextStep()
    {
        if (!_interference)
        {
            return TimeSpan.Zero;
        }

        var backlog = Backlog;
        return backlog < _maxChunk ? backlog : _maxChunk;
    }

    /// <summary>
    /// Queues <paramref name="tokens"/> uncached prompt tokens and returns how long until they are
    /// computed: their own compute time, plus, with contention, the compute still owed to prompts
    /// queued earlier.
    /// </summary>
    public TimeSpan Reserve(int tokens) => Reserve(tokens, TimeSpan.Zero);

    /// <summary>
    /// As <see cref="Reserve(int)"/>, with <paramref name="overhead"/> more compute owed (the decode
    /// part of the steps the prompt's chunks ride in).
    /// </summary>
    public TimeSpan Reserve(int tokens, TimeSpan overhead)
    {
        var own = TimeSpan.FromMilliseconds(_perTokenMs * Math.Max(0, tokens)) + overhead;
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

    /// <summary>Ends one sequence's decoding once.</summary>
    public sealed class DecodingScope : IDisposable
    {
        private PrefillCompute? _compute;

        internal DecodingScope(PrefillCompute compute) => _compute = compute;

        /// <inheritdoc />
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _compute, null) is { } compute)
            {
                Interlocked.Decrement(ref compute._decoding);
            }
        }
    }
}
