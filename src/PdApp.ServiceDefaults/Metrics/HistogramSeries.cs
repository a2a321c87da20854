namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// One histogram series: a count per bucket (upper bound inclusive, as OpenTelemetry's explicit-bucket
/// histogram; the last bucket is <c>+Inf</c>) and the sum. The count is the buckets' total, so a scrape
/// never shows <c>_count</c> different from the <c>+Inf</c> bucket.
/// </summary>
internal sealed class HistogramSeries(TagSet tags, double[] boundaries) : MetricSeries(tags, floatingPoint: true)
{
    private readonly long[] _buckets = new long[boundaries.Length + 1];
    private long _sum;

    /// <summary>The upper bounds of every bucket but the last.</summary>
    public double[] Boundaries { get; } = boundaries;

    /// <summary>Counts one measurement. NaN is ignored.</summary>
    /// <param name="value">The measurement.</param>
    public void Record(double value)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        var index = Array.BinarySearch(Boundaries, value);
        Interlocked.Increment(ref _buckets[index >= 0 ? index : ~index]);
        AddDouble(ref _sum, value);
    }

    /// <summary>The sum of every measurement.</summary>
    public double Sum => BitConverter.Int64BitsToDouble(Volatile.Read(ref _sum));

    /// <summary>Copies the per-bucket (not cumulative) counts into <paramref name="counts"/>.</summary>
    /// <param name="counts">At least <c>Boundaries.Length + 1</c> long.</param>
    public void CopyBuckets(Span<long> counts)
    {
        for (var i = 0; i < _buckets.Length; i++)
        {
            counts[i] = Volatile.Read(ref _buckets[i]);
        }
    }
}
