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
}
