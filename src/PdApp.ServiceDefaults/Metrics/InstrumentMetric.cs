using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// One exported instrument: its Prometheus name, type and help, and its series by tag set. A measurement
/// with a tag set seen before finds its series without allocating (an alternate lookup on the tag span);
/// a new tag set creates one series, up to <see cref="CardinalityLimit"/> series, past which measurements
/// go to one series labelled <c>otel_metric_overflow="true"</c>, as OpenTelemetry's SDK does.
/// </summary>
internal sealed class InstrumentMetric
{
    private readonly ConcurrentDictionary<TagSet, MetricSeries> _series = new(TagSetComparer.Instance);
    private readonly ConcurrentDictionary<TagSet, MetricSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly Lock _creation = new();
    private MetricSeries[] _ordered = [];
    private MetricSeries? _overflow;

    /// <summary>Describes <paramref name="instrument"/> for export.</summary>
    /// <param name="instrument">The instrument.</param>
    /// <param name="type">Its Prometheus type.</param>
    /// <param name="observable">Whether its measurements are totals or last values reported at collection.</param>
    /// <param name="setsValue">Whether a measurement replaces the value (gauges, observable instruments) rather than adding to it.</param>
    /// <param name="floatingPoint">Whether its values are floating point.</param>
    /// <param name="boundaries">Histogram bucket upper bounds; empty for other types.</param>
    /// <param name="cardinalityLimit">The most series kept before the overflow series.</param>
    public InstrumentMetric(Instrument instrument, PrometheusMetricType type, bool observable, bool setsValue, bool floatingPoint,
        double[] boundaries, int cardinalityLimit)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        Instrument = instrument;
        Type = type;
        Observable = observable;
        SetsValue = setsValue;
        FloatingPoint = floatingPoint || type == PrometheusMetricType.Histogram;
        Boundaries = boundaries;
        CardinalityLimit = cardinalityLimit;
        Name = PrometheusNames.MetricName(instrument.Name, instrument.Unit, type);
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    /// <summary>The instrument.</summary>
    public Instrument Instrument { get; }

    /// <summary>The Prometheus metric name.</summary>
    public string Name { get; }

    /// <summary>The Prometheus type.</summary>
    public PrometheusMetricType Type { get; }

    /// <summary>Whether the instrument is observable (collected by callback at each scrape).</summary>
    public bool Observable { get; }

    /// <summary>Whether a measurement replaces the series' value.</summary>
    public bool SetsValue { get; }

    /// <summary>Whether values are floating point.</summary>
    public bool FloatingPoint { get; }

    /// <summary>Histogram bucket upper bounds.</summary>
    public double[] Boundaries { get; }

    /// <summary>The most series kept; further tag sets share the overflow series.</summary>
    public int CardinalityLimit { get; }

    /// <summary>The series in creation order, the overflow series last (a snapshot for a scrape).</summary>
    public ReadOnlySpan<MetricSeries> Series => Volatile.Read(ref _ordered);

    /// <summary>Records an integer measurement.</summary>
    /// <param name="value">The value.</param>
    /// <param name="tags">The measurement's tags.</param>
    public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = Find(tags);
        if (series is HistogramSeries histogram)
        {
            histogram.Record(value);
        }
        else if (SetsValue)
        {
            SetValue(series, value);
        }
        else if (FloatingPoint)
        {
            series.Add((double)value);
        }
        else
        {
            series.Add(value);
        }
    }

    /// <summary>Records a floating-point measurement.</summary>
    /// <param name="value">The value.</param>
    /// <param name="tags">The measurement's tags.</param>
    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = Find(tags);
        if (series is HistogramSeries histogram)
        {
            histogram.Record(value);
        }
        else if (SetsValue)
        {
            series.Set(value);
        }
        else
        {
            series.Add(value);
        }
    }

    private static void SetValue(MetricSeries series, long value)
    {
        if (series.FloatingPoint)
        {
            series.Set((double)value);
        }
        else
        {
            series.Set(value);
        }
    }

    private MetricSeries Find(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _lookup.TryGetValue(tags, out var series) ? series : Create(tags);

    private MetricSeries Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_creation)
        {
            if (_lookup.TryGetValue(tags, out var existing))
            {
                return existing;
            }

            if (_series.Count >= CardinalityLimit)
            {
                if (_overflow is null)
                {
                    _overflow = NewSeries(TagSet.Overflow);
                    Volatile.Write(ref _ordered, [.. _ordered, _overflow]);
                }

                return _overflow;
            }

            var series = NewSeries(TagSet.Create(tags));
            _series[series.Tags] = series;

            // The overflow series, once there, stays last.
            var ordered = _ordered;
            Volatile.Write(ref _ordered, _overflow is null ? [.. ordered, series] : [.. ordered[..^1], series, _overflow]);
            return series;
        }
    }

    private MetricSeries NewSeries(TagSet tags) => Type == PrometheusMetricType.Histogram
        ? new HistogramSeries(tags, Boundaries)
        : new MetricSeries(tags, FloatingPoint);
}
