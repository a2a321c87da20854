using System.Collections.Concurrent;

namespace PdApp.Bench.Measurement;

/// <summary>
/// Collects the outcomes of one target's requests as exact samples and counters. Thread-safe;
/// the live progress display reads <see cref="Completed"/> and <see cref="Failed"/> while requests run.
/// </summary>
internal sealed class MetricsRecorder : IInterTokenObserver
{
    private const int MaxSampleErrors = 5;

    private readonly SloSettings _slo;
    private readonly IReadOnlyList<double> _percentiles;
    private readonly LatencySamples _ttft = new();
    private readonly LatencySamples _tpot = new();
    private readonly LatencySamples _itl = new();
    private readonly LatencySamples _e2e = new();
    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _sampleErrors = new();
    private long _completed;
    private long _failed;
    private long _inputTokens;
    private long _outputTokens;
    private long _good;

    /// <summary>Creates a recorder for one target.</summary>
    /// <param name="target">The target's full name (its URLs).</param>
    /// <param name="slo">Objectives for goodput.</param>
    /// <param name="label">The target's short label in tables and charts (default: <paramref name="target"/>).</param>
    /// <param name="percentiles">Percentiles to compute besides median, p90 and p99 (<c>--metric-percentiles</c>).</param>
    public MetricsRecorder(string target, SloSettings slo, string? label = null, IReadOnlyList<double>? percentiles = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentNullException.ThrowIfNull(slo);
        Target = target;
        Label = string.IsNullOrEmpty(label) ? target : label;
        _slo = slo;
        _percentiles = percentiles ?? [];
    }

    /// <summary>The target's full name.</summary>
    public string Target { get; }

    /// <summary>The target's short label.</summary>
    public string Label { get; }

    /// <summary>Successful requests so far.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Failed requests so far.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Output tokens so far.</summary>
    public long OutputTokens => Interlocked.Read(ref _outputTokens);

    /// <inheritdoc />
    public void OnInterTokenLatency(long microseconds) => _itl.Record(microseconds);

    /// <summary>Records a finished request.</summary>
    public void Record(RequestOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (!outcome.Succeeded)
        {
            Interlocked.Increment(ref _failed);
            _errors.AddOrUpdate(outcome.ErrorKind!, 1, static (_, count) => count + 1);
            if (_sampleErrors.Count < MaxSampleErrors)
            {
                _sampleErrors.Enqueue($"{outcome.ErrorKind}: {outcome.ErrorMessage}");
            }

            return;
        }

        Interlocked.Increment(ref _completed);
        Interlocked.Add(ref _inputTokens, outcome.PromptTokens);
        Interlocked.Add(ref _outputTokens, outcome.OutputTokens);
        _ttft.Record(outcome.TtftMicroseconds);
        _e2e.Record(outcome.E2eMicroseconds);
        if (outcome.TpotMicroseconds is { } tpot)
        {
            _tpot.Record(tpot);
        }

        if (_slo.IsSet && _slo.IsMetBy(outcome))
        {
            Interlocked.Increment(ref _good);
        }
    }

    /// <summary>Builds the result once every request has been recorded.</summary>
    /// <param name="maxConcurrency">The run's concurrency limit.</param>
    /// <param name="requestRate">The run's arrival rate.</param>
    /// <param name="duration">The measured wall-clock time.</param>
    public RunResult ToResult(int? maxConcurrency, double requestRate, TimeSpan duration) => new()
    {
        Target = Target,
        Label = Label,
        MaxConcurrency = maxConcurrency,
        RequestRate = requestRate,
        Duration = duration,
        Completed = Completed,
        Failed = Failed,
        Errors = new SortedDictionary<string, long>(_errors, StringComparer.Ordinal),
        SampleErrors = [.. _sampleErrors],
        InputTokens = Interlocked.Read(ref _inputTokens),
        OutputTokens = OutputTokens,
        GoodRequests = _slo.IsSet ? Interlocked.Read(ref _good) : null,
        Ttft = _ttft.Summarize(_percentiles),
        Tpot = _tpot.Summarize(_percentiles),
        Itl = _itl.Summarize(_percentiles),
        E2e = _e2e.Summarize(_percentiles),
    };
}
