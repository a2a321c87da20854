using HdrHistogram;

namespace PdApp.Bench.Measurement;

/// <summary>
/// A thread-safe HDR histogram of microsecond latencies from 1 µs to one hour at three
/// significant digits (0.1% error), which bounds memory regardless of the sample count.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>Largest value recorded; longer samples are clamped to it.</summary>
    public const long HighestMicroseconds = 3_600_000_000;

    private readonly LongConcurrentHistogram _histogram = new(1, HighestMicroseconds, 3);

    /// <summary>Records one sample.</summary>
    /// <param name="microseconds">The latency; negative values (clock quirks) count as zero.</param>
    public void Record(long microseconds) => _histogram.RecordValue(Math.Clamp(microseconds, 0, HighestMicroseconds));

    /// <summary>Number of samples.</summary>
    public long Count => _histogram.TotalCount;

    /// <summary>Summarises the samples in milliseconds.</summary>
    public LatencySummary Summarize() => LatencySummary.FromMicroseconds(_histogram);
}
