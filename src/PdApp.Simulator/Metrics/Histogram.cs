using System.Globalization;
using System.Text;

namespace PdApp.Simulator.Metrics;

/// <summary>A thread-safe Prometheus histogram with fixed bucket bounds (seconds).</summary>
internal sealed class Histogram(string name, string help, double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1];
    private long _count;
    private long _sumMicros;

    /// <summary>Records one observation.</summary>
    public void Observe(double seconds)
    {
        var index = Array.BinarySearch(bounds, seconds);
        if (index < 0)
        {
            index = ~index;
        }

        Interlocked.Increment(ref _counts[index]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1_000_000));
    }

    /// <summary>Number of observations.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Writes the histogram in the Prometheus text format.</summary>
    public void WriteTo(StringBuilder text, string labels)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" histogram\n");
        long cumulative = 0;
        for (var i = 0; i < bounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"")
                .Append(bounds[i].ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(cumulative).Append('\n');
        }

        cumulative += Interlocked.Read(ref _counts[^1]);
        text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"+Inf\"} ").Append(cumulative).Append('\n');
        text.Append(name).Append("_sum{").Append(labels).Append("} ")
            .Append((Interlocked.Read(ref _sumMicros) / 1_000_000.0).ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append(name).Append("_count{").Append(labels).Append("} ").Append(cumulative).Append('\n');
    }
}
