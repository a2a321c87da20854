using PdApp.Bench.Load;
using PdApp.Bench.Measurement;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;
using PdApp.Protocol.Connectors;

namespace PdApp.Bench.Cli;

/// <summary>Where the requests go: one server, or a prefill/decode pair driven by the client.</summary>
/// <param name="BaseUrl">The server, when not <paramref name="PdDirect"/>.</param>
/// <param name="PdDirect">Prefill and decode base URLs, or null.</param>
/// <param name="Connector">With <paramref name="PdDirect"/>: the instances' connector, deciding what the bodies carry.</param>
internal sealed record TargetSpec(Uri? BaseUrl, (Uri Prefill, Uri Decode)? PdDirect, ResolvedConnector? Connector = null)
{
    /// <summary>The server that answers <c>GET /v1/models</c> (the decode instance for a pair).</summary>
    public Uri ModelSource => PdDirect?.Decode ?? BaseUrl!;
}

/// <summary>The validated settings of one bench invocation.</summary>
internal sealed record BenchSettings
{
    /// <summary>The primary target.</summary>
    public required TargetSpec Primary { get; init; }

    /// <summary>The target compared against the primary, or null.</summary>
    public required Uri? Compare { get; init; }

    /// <summary>How the two targets of <see cref="Compare"/> share the load.</summary>
    public required CompareMode CompareMode { get; init; }

    /// <summary>Request shape; <see cref="RequestShape.Model"/> is empty until resolved from the server.</summary>
    public required RequestShape Shape { get; init; }

    /// <summary>Where prompts come from.</summary>
    public required DatasetSpec Dataset { get; init; }

    /// <summary>Concurrency levels to run, in order (null = unlimited).</summary>
    public required IReadOnlyList<int?> ConcurrencyLevels { get; init; }

    /// <summary>The load plan shared by every level (its <see cref="LoadPlan.MaxConcurrency"/> is replaced per level).</summary>
    public required LoadPlan Plan { get; init; }

    /// <summary>Goodput objectives.</summary>
    public required SloSettings Slo { get; init; }

    /// <summary>JSON output file, or null.</summary>
    public required FileInfo? OutputJson { get; init; }

    /// <summary>Chart file, or null.</summary>
    public required FileInfo? Plot { get; init; }

    /// <summary>Whether to show live progress.</summary>
    public required bool ShowProgress { get; init; }

    /// <summary>Short labels of the targets, primary first (the compare target second when there is one).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>What the vLLM-style summary and result files report.</summary>
    public ReportSettings Report { get; init; } = ReportSettings.Default;

    /// <summary>Where <c>--save-result</c> writes vLLM-format result files, or null when not saving.</summary>
    public ResultFileSettings? SaveResult { get; init; }

    /// <summary>How long the initial test request is retried while the server is not ready; zero skips it.</summary>
    public TimeSpan ReadyCheckTimeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>vLLM's <c>--percentile-metrics</c> and <c>--metric-percentiles</c>.</summary>
/// <param name="PercentileMetrics">The metrics to report statistics of.</param>
/// <param name="MetricPercentiles">The percentiles to report.</param>
internal sealed record ReportSettings(IReadOnlyList<LatencyMetric> PercentileMetrics, IReadOnlyList<double> MetricPercentiles)
{
    /// <summary>vLLM's defaults: <c>ttft,tpot,itl</c> at the 99th percentile.</summary>
    public static ReportSettings Default { get; } = new(LatencyMetrics.VllmDefault, [99]);
}

/// <summary>vLLM's <c>--save-result</c>, <c>--result-dir</c>, <c>--result-filename</c>, <c>--label</c> and <c>--metadata</c>.</summary>
/// <param name="Directory">The folder, or null for the current one.</param>
/// <param name="FileName">The file name, or null for vLLM's default pattern.</param>
/// <param name="Label">The <c>--label</c> given, or null (each target's label is used).</param>
/// <param name="Backend">The value of vLLM's <c>backend</c> key: openai, vllm or openai-chat.</param>
/// <param name="Metadata">Extra keys for each file.</param>
internal sealed record ResultFileSettings(
    DirectoryInfo? Directory,
    string? FileName,
    string? Label,
    string Backend,
    IReadOnlyList<KeyValuePair<string, string>> Metadata);
