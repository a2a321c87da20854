using PdApp.Bench.Cli;
using PdApp.Bench.Load;
using PdApp.Bench.Measurement;
using PdApp.Bench.Reporting;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;

namespace PdApp.Bench;

/// <summary>
/// Runs one concurrency level against the targets: interleaved in one arrival stream, or one
/// target after the other (<see cref="CompareMode.Sequential"/>), each with its warm-up, under the
/// live progress display, and collects the per-target results.
/// </summary>
internal sealed class LevelRunner
{
    private readonly LoadRunner _runner;
    private readonly IProgressDisplay? _progress;
    private readonly ReportConsole _output;
    private readonly TimeProvider _time;

    /// <summary>Creates the runner.</summary>
    /// <param name="runner">Sends the load.</param>
    /// <param name="progress">Live progress, or null for none.</param>
    /// <param name="output">Where warnings go.</param>
    /// <param name="time">The clock.</param>
    public LevelRunner(LoadRunner runner, IProgressDisplay? progress, ReportConsole output, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(time);
        _runner = runner;
        _progress = progress;
        _output = output;
        _time = time;
    }

    /// <summary>Runs one level: warm-up, then the measured load, for every target.</summary>
    /// <param name="settings">The invocation's settings.</param>
    /// <param name="targets">The targets, primary first.</param>
    /// <param name="workload">The prompts.</param>
    /// <param name="level">The concurrency limit, or null for none.</param>
    /// <param name="cancellationToken">Ctrl+C: the level ends early and is marked aborted.</param>
    /// <returns>The level's results.</returns>
    public async Task<LevelResult> RunAsync(
        BenchSettings settings,
        IReadOnlyList<IBenchTarget> targets,
        Workload workload,
        int? level,
        CancellationToken cancellationToken)
    {
        var plan = settings.Plan with { MaxConcurrency = level };
        var slots = targets
            .Select((target, i) => new TargetSlot(target, new MetricsRecorder(target.Name, settings.Slo, settings.Labels.ElementAtOrDefault(i), settings.Report.MetricPercentiles)))
            .ToArray();
        var sequential = slots.Length > 1 && settings.CompareMode == CompareMode.Sequential;
        TargetSlot[][] groups = sequential ? [.. slots.Select(slot => new[] { slot })] : [slots];
        var durations = new Dictionary<TargetSlot, TimeSpan>();
        var warmupFailures = 0;
        var aborted = false;
        foreach (var group in groups)
        {
            var outcome = await RunGroupAsync(plan, group, workload, cancellationToken).ConfigureAwait(false);
            warmupFailures += outcome.WarmupFailures;
            foreach (var slot in group)
            {
                durations[slot] = outcome.Duration;
            }

            if (outcome.Aborted)
            {
                aborted = true;
                break;
            }
        }

        var runs = slots.Select(slot => slot.Recorder.ToResult(level, plan.RequestRate, durations.GetValueOrDefault(slot))).ToArray();
        return new LevelResult(level, runs, warmupFailures, aborted, ThroughputComparable: sequential);
    }

    private async Task<(TimeSpan Duration, int WarmupFailures, bool Aborted)> RunGroupAsync(
        LoadPlan plan,
        TargetSlot[] slots,
        Workload workload,
        CancellationToken cancellationToken)
    {
        var title = $"{(slots.Length == 1 ? slots[0].Recorder.Label + ", " : string.Empty)}concurrency {ResultTableWriter.Concurrency(plan.MaxConcurrency)}, rate {ResultTableWriter.Rate(plan.RequestRate)}";
        var warmupFailures = 0;
        var started = _time.GetTimestamp();
        try
        {
            if (plan.Warmup > 0)
            {
                warmupFailures = await _runner.WarmUpAsync(plan, slots, workload, cancellationToken).ConfigureAwait(false);
                if (warmupFailures > 0)
                {
                    _output.Warning($"{warmupFailures} of {plan.Warmup * slots.Length} warm-up requests failed");
                }
            }

            var progress = new RunProgress(title, slots, plan.NumPrompts * slots.Length, plan.Duration);
            started = _time.GetTimestamp();
            var duration = _progress is null
                ? await _runner.RunAsync(plan, progress, workload, cancellationToken).ConfigureAwait(false)
                : await _progress.ShowAsync(progress, () => _runner.RunAsync(plan, progress, workload, cancellationToken)).ConfigureAwait(false);
            return (duration, warmupFailures, false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (_time.GetElapsedTime(started), warmupFailures, true);
        }
    }
}
