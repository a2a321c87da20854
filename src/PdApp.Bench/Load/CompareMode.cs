namespace PdApp.Bench.Load;

/// <summary>How a run with two targets (<c>--compare</c>) shares the load between them.</summary>
internal enum CompareMode
{
    /// <summary>
    /// One arrival stream alternating between the targets prompt by prompt: both see the same
    /// moment-to-moment conditions (noisy neighbours, server warm-up), which suits latency
    /// comparisons; both finish together, so throughput is not compared.
    /// </summary>
    Interleaved,

    /// <summary>
    /// The first target alone, then the second alone, each with the full rate and concurrency:
    /// throughput (what each sustains) is comparable; latencies are not measured side by side.
    /// </summary>
    Sequential,
}
