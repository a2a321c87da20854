namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// One series (an instrument and a tag set) and its cumulative value, updated lock-free by any thread.
/// Integer instruments keep a <see cref="long"/>, floating-point ones a <see cref="double"/> (its bits in a
/// <see cref="long"/>, added with compare-and-swap), so counters print as integers as they always have.
/// </summary>
internal class MetricSeries(TagSet tags, bool floatingPoint)
{
    private long _value;

    /// <summary>The series' tags.</summary>
    public TagSet Tags { get; } = tags;

    /// <summary>When the series was created, in seconds since the Unix epoch (OpenMetrics' <c>_created</c>).</summary>
    public double StartSeconds { get; } = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerSecond;

    /// <summary>Whether the value is a <see cref="double"/>.</summary>
    public bool FloatingPoint { get; } = floatingPoint;

    /// <summary>Adds to the integer value.</summary>
    /// <param name="value">The increment (negative for an up-down counter).</param>
    public void Add(long value) => Interlocked.Add(ref _value, value);

    /// <summary>Adds to the floating-point value.</summary>
    /// <param name="value">The increment.</param>
    public void Add(double value) => AddDouble(ref _value, value);

    /// <summary>Replaces the integer value (observable instruments report totals; gauges report the last value).</summary>
    /// <param name="value">The value.</param>
    public void Set(long value) => Volatile.Write(ref _value, value);

    /// <summary>Replaces the floating-point value.</summary>
    /// <param name="value">The value.</param>
    public void Set(double value) => Volatile.Write(ref _value, BitConverter.DoubleToInt64Bits(value));

    /// <summary>The integer value.</summary>
    public long LongValue => Volatile.Read(ref _value);

    /// <summary>The floating-point value.</summary>
    public double DoubleValue => BitConverter.Int64BitsToDouble(Volatile.Read(ref _value));

    /// <summary>Adds <paramref name="value"/> to the double whose bits are in <paramref name="location"/>.</summary>
    /// <param name="location">The bits.</param>
    /// <param name="value">The increment.</param>
    protected static void AddDouble(ref long location, double value)
    {
        var current = Volatile.Read(ref location);
        while (true)
        {
            var next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(current) + value);
            var seen = Interlocked.CompareExchange(ref location, next, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
