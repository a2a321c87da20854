namespace PdApp.Bench.Measurement;

/// <summary>
/// Summary of one latency metric in milliseconds, computed as vLLM's benchmark computes it with
/// numpy: <see cref="Std"/> is the population standard deviation, <see cref="Median"/> and the
/// percentiles interpolate linearly between the two nearest samples. With no samples every value
/// is 0, as vLLM reports an empty list.
/// </summary>
/// <param name="Count">Number of samples.</param>
/// <param name="Mean">Mean.</param>
/// <param name="Median">Median (the 50th percentile).</param>
/// <param name="Std">Population standard deviation.</param>
/// <param name="P90">90th percentile.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="Max">Maximum.</param>
/// <param name="Percentiles">The percentiles asked for with <c>--metric-percentiles</c>, in the order asked.</param>
internal sealed record LatencySummary(
    long Count,
    double Mean,
    double Median,
    double Std,
    double P90,
    double P99,
    double Max,
    IReadOnlyList<PercentileValue> Percentiles)
{
    /// <summary>The summary of no samples.</summary>
    public static LatencySummary Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, []);

    /// <summary>The median under its percentile name.</summary>
    public double P50 => Median;

    /// <summary>The value of percentile <paramref name="percentile"/> if it was computed.</summary>
    public double? At(double percentile) =>
        percentile switch
        {
            50 => Median,
            90 => P90,
            99 => P99,
            100 => Max,
            _ => Percentiles.FirstOrDefault(value => value.Percentile == percentile)?.Milliseconds,
        };

    /// <summary>Summarises ascending microsecond samples.</summary>
    /// <param name="sorted">The samples, sorted ascending.</param>
    /// <param name="percentiles">Extra percentiles to compute, each in [0, 100].</param>
    public static LatencySummary FromSortedMicroseconds(IReadOnlyList<double> sorted, IReadOnlyList<double> percentiles)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentNullException.ThrowIfNull(percentiles);
        if (sorted.Count == 0)
        {
            return Empty with { Percentiles = [.. percentiles.Select(p => new PercentileValue(p, 0))] };
        }

        var sum = 0.0;
        foreach (var value in sorted)
        {
            sum += value;
        }

        var mean = sum / sorted.Count;
        var squares = 0.0;
        foreach (var value in sorted)
        {
            squares += (value - mean) * (value - mean);
        }

        return new LatencySummary(
            sorted.Count,
            mean / 1000.0,
            Percentile(sorted, 50) / 1000.0,
            Math.Sqrt(squares / sorted.Count) / 1000.0,
            Percentile(sorted, 90) / 1000.0,
            Percentile(sorted, 99) / 1000.0,
            sorted[^1] / 1000.0,
            [.. percentiles.Select(p => new PercentileValue(p, Percentile(sorted, p) / 1000.0))]);
    }

    /// <summary>
    /// numpy's default ("linear") percentile: the value at rank <c>p/100 * (n - 1)</c>,
    /// interpolated between the samples either side.
    /// </summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percentile)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentOutOfRangeException.ThrowIfZero(sorted.Count);
        var rank = Math.Clamp(percentile, 0, 100) / 100.0 * (sorted.Count - 1);
        var lower = (int)Math.Floor(rank);
        var upper = (int)Math.Ceiling(rank);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (rank - lower));
    }
}

/// <summary>One requested percentile of a metric.</summary>
/// <param name="Percentile">The percentile, e.g. 99 or 99.9.</param>
/// <param name="Milliseconds">Its value.</param>
internal sealed record PercentileValue(double Percentile, double Milliseconds);
