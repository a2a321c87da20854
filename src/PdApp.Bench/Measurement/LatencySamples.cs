namespace PdApp.Bench.Measurement;

/// <summary>
/// Every sample of one latency metric, in microseconds, kept exactly so that the summaries are
/// the ones vLLM's benchmark computes with numpy over its lists (mean, population standard
/// deviation, median and linearly interpolated percentiles). Thread-safe; samples go into
/// fixed-size chunks, so a long run grows by chunk without copying (8 bytes a sample: ITL has one
/// per output chunk).
/// </summary>
internal sealed class LatencySamples
{
    private const int ChunkSize = 16 * 1024;

    private readonly List<double[]> _chunks = [];
    private readonly Lock _lock = new();
    private double[]? _current;
    private int _used;
    private long _count;

    /// <summary>Number of samples.</summary>
    public long Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Records one sample.</summary>
    /// <param name="microseconds">The latency; negative values (clock quirks) count as zero.</param>
    public void Record(double microseconds)
    {
        var value = double.IsFinite(microseconds) ? Math.Max(microseconds, 0) : 0;
        lock (_lock)
        {
            if (_current is null || _used == ChunkSize)
            {
                _current = new double[ChunkSize];
                _chunks.Add(_current);
                _used = 0;
            }

            _current[_used++] = value;
            _count++;
        }
    }

    /// <summary>Summarises the samples in milliseconds.</summary>
    /// <param name="percentiles">Extra percentiles to compute (e.g. <c>--metric-percentiles</c>), each in [0, 100].</param>
    public LatencySummary Summarize(IReadOnlyList<double>? percentiles = null)
    {
        double[] sorted;
        lock (_lock)
        {
            sorted = new double[_count];
            var offset = 0;
            foreach (var chunk in _chunks)
            {
                var length = (int)Math.Min(ChunkSize, _count - offset);
                Array.Copy(chunk, 0, sorted, offset, length);
                offset += length;
            }
        }

        Array.Sort(sorted);
        return LatencySummary.FromSortedMicroseconds(sorted, percentiles ?? []);
    }
}
