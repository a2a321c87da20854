using PdApp.Bench.Measurement;

namespace PdApp.Bench.Reporting;

/// <summary>The results of one concurrency level: one run result per target, and their comparison when there are two.</summary>
/// <param name="MaxConcurrency">The level, or null for unlimited.</param>
/// <param name="Runs">One result per target, primary first.</param>
/// <param name="WarmupFailures">Warm-up requests that failed.</param>
/// <param name="Aborted">The level was cut short by Ctrl+C; its numbers cover what finished.</param>
/// <param name="ThroughputComparable">The targets ran separately, so their throughputs can be compared.</param>
internal sealed record LevelResult(int? MaxConcurrency, IReadOnlyList<RunResult> Runs, int WarmupFailures, bool Aborted, bool ThroughputComparable = false)
{
    /// <summary>The comparison of the second target with the first, or null with one target.</summary>
    public Comparison? Comparison => Runs.Count >= 2 ? Comparison.Create(Runs[0], Runs[1], ThroughputComparable) : null;
}
