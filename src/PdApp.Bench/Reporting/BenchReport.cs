using PdApp.Bench.Cli;
using PdApp.Bench.Measurement;

namespace PdApp.Bench.Reporting;

/// <summary>
/// The JSON document <c>--output-json</c> writes (snake_case). Version 1. Latencies are in
/// milliseconds, throughputs per second; <c>request_rate</c> is null for an unlimited rate.
/// </summary>
internal sealed record BenchReport(
    int SchemaVersion,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    BenchReportConfig Config,
    IReadOnlyList<BenchReportRun> Runs,
    IReadOnlyList<BenchReportComparison> Comparisons)
{
    /// <summary>The current schema version.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>Builds the report of a finished invocation.</summary>
    public static BenchReport Create(BenchSettings settings, IReadOnlyList<string> targets, IReadOnlyList<LevelResult> levels, DateTimeOffset startedAt, DateTimeOffset finishedAt)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(levels);
        var config = new BenchReportConfig(
            targets,
            settings.Labels.Count == targets.Count ? settings.Labels : targets,
            settings.Shape.Endpoint.ToString().ToLowerInvariant(),
            settings.Shape.Model,
            settings.Shape.Stream,
            settings.Dataset.Name,
            settings.Dataset.Path,
            settings.Dataset.Kind == Workloads.DatasetKind.Random ? settings.Dataset.Random.InputTokens : null,
            settings.Dataset.FixedOutputTokens,
            settings.Dataset.Random.RangeRatio,
            double.IsPositiveInfinity(settings.Plan.RequestRate) ? null : settings.Plan.RequestRate,
            settings.Plan.Burstiness,
            settings.ConcurrencyLevels,
            settings.Plan.NumPrompts,
            settings.Plan.Duration?.TotalSeconds,
            settings.Plan.Warmup,
            settings.Plan.Seed,
            settings.Slo.TtftMilliseconds,
            settings.Slo.TpotMilliseconds,
            settings.Slo.E2elMilliseconds,
            settings.Report.MetricPercentiles);
        var runs = levels.SelectMany(level => level.Runs.Select(run => BenchReportRun.From(run, level.Aborted))).ToArray();
        var comparisons = levels.Select(level => level.Comparison).OfType<Comparison>().Select(BenchReportComparison.From).ToArray();
        return new BenchReport(CurrentSchemaVersion, startedAt, finishedAt, config, runs, comparisons);
    }
}

/// <summary>What was run.</summary>
internal sealed record BenchReportConfig(
    IReadOnlyList<string> Targets,
    IReadOnlyList<string> Labels,
    string Endpoint,
    string Model,
    bool Stream,
    string Dataset,
    string? DatasetPath,
    int? InputLen,
    int? OutputLen,
    double RangeRatio,
    double? RequestRate,
    double Burstiness,
    IReadOnlyList<int?> MaxConcurrency,
    long? NumPrompts,
    double? DurationS,
    int Warmup,
    int Seed,
    double? SloTtftMs,
    double? SloTpotMs,
    double? SloE2elMs,
    IReadOnlyList<double> MetricPercentiles);

/// <summary>One target at one concurrency level.</summary>
internal sealed record BenchReportRun(
    string Target,
    string Label,
    int? MaxConcurrency,
    bool Aborted,
    double DurationS,
    long Completed,
    long Failed,
    IReadOnlyDictionary<string, long> Errors,
    long InputTokens,
    long OutputTokens,
    double RequestThroughput,
    double OutputThroughput,
    double TotalTokenThroughput,
    double? Goodput,
    long? GoodRequests,
    LatencySummary TtftMs,
    LatencySummary TpotMs,
    LatencySummary ItlMs,
    LatencySummary E2eMs)
{
    /// <summary>Converts a run result.</summary>
    public static BenchReportRun From(RunResult run, bool aborted)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new BenchReportRun(
            run.Target,
            run.DisplayName,
            run.MaxConcurrency,
            aborted,
            run.Duration.TotalSeconds,
            run.Completed,
            run.Failed,
            run.Errors,
            run.InputTokens,
            run.OutputTokens,
            run.RequestThroughput,
            run.OutputThroughput,
            run.TotalTokenThroughput,
            run.Goodput,
            run.GoodRequests,
            run.Ttft,
            run.Tpot,
            run.Itl,
            run.E2e);
    }
}

/// <summary>Two targets compared at one level.</summary>
internal sealed record BenchReportComparison(int? MaxConcurrency, string Baseline, string Candidate, IReadOnlyList<BenchReportComparisonRow> Metrics)
{
    /// <summary>Converts a comparison.</summary>
    public static BenchReportComparison From(Comparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        return new BenchReportComparison(
            comparison.MaxConcurrency,
            comparison.Baseline,
            comparison.Candidate,
            comparison.Rows.Select(row => new BenchReportComparisonRow(row.Metric, row.Unit, row.Baseline, row.Candidate, row.Delta, row.Ratio)).ToArray());
    }
}

/// <summary>One compared metric.</summary>
internal sealed record BenchReportComparisonRow(string Metric, string Unit, double Baseline, double Candidate, double Delta, double? Ratio);
