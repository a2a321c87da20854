namespace PdApp.Bench.Measurement;

/// <summary>The measurements of one target in one run (one concurrency level).</summary>
internal sealed record RunResult
{
    /// <summary>The target's full name (its URLs).</summary>
    public required string Target { get; init; }

    /// <summary>The target's short label in tables and charts.</summary>
    public string Label { get; init; } = string.Empty;

    /// <summary>The label, or the full name when no label was given.</summary>
    public string DisplayName => Label.Length > 0 ? Label : Target;

    /// <summary>The concurrency limit, or null for unlimited.</summary>
    public required int? MaxConcurrency { get; init; }

    /// <summary>The arrival rate in requests per second; <see cref="double.PositiveInfinity"/> for all at once.</summary>
    public required double RequestRate { get; init; }

    /// <summary>Wall-clock time from the first send to the last response.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Requests that succeeded.</summary>
    public required long Completed { get; init; }

    /// <summary>Requests that failed.</summary>
    public required long Failed { get; init; }

    /// <summary>Failures by <see cref="ErrorKinds"/> category.</summary>
    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    /// <summary>Messages of the first few failures.</summary>
    public required IReadOnlyList<string> SampleErrors { get; init; }

    /// <summary>Prompt tokens of successful requests.</summary>
    public required long InputTokens { get; init; }

    /// <summary>Output tokens of successful requests.</summary>
    public required long OutputTokens { get; init; }

    /// <summary>Requests that met every SLO, or null when no SLO was set.</summary>
    public required long? GoodRequests { get; init; }

    /// <summary>Time to first token.</summary>
    public required LatencySummary Ttft { get; init; }

    /// <summary>Time per output token after the first.</summary>
    public required LatencySummary Tpot { get; init; }

    /// <summary>Gaps between output chunks.</summary>
    public required LatencySummary Itl { get; init; }

    /// <summary>End-to-end latency.</summary>
    public required LatencySummary E2e { get; init; }

    private double Seconds => Math.Max(Duration.TotalSeconds, 1e-9);

    /// <summary>Successful requests per second.</summary>
    public double RequestThroughput => Completed / Seconds;

    /// <summary>Output tokens per second.</summary>
    public double OutputThroughput => OutputTokens / Seconds;

    /// <summary>Input plus output tokens per second.</summary>
    public double TotalTokenThroughput => (InputTokens + OutputTokens) / Seconds;

    /// <summary>Requests per second that met every SLO, or null when no SLO was set.</summary>
    public double? Goodput => GoodRequests is { } good ? good / Seconds : null;
}
