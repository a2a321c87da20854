using System.Globalization;
using System.Text;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// Writes one instrument's series as OpenTelemetry's Prometheus exporter did, in either format it negotiated:
/// the Prometheus text format 0.0.4 (<c># TYPE</c>, <c># HELP</c>, samples) or OpenMetrics 1.0 (the family name
/// without <c>_total</c> in the metadata, <c># UNIT</c>, a <c>_created</c> sample per counter and histogram
/// series, <c>le</c> bounds as floats). Every sample carries <c>otel_scope_name</c> (the meter) before the
/// series' own labels; metrics without a series yet are left out.
/// </summary>
internal static class PrometheusTextWriter
{
    /// <summary>Writes the <c>target_info</c> family (the process's resource attributes).</summary>
    /// <param name="text">The destination.</param>
    /// <param name="labels">The rendered resource labels.</param>
    /// <param name="openMetrics">Whether to write OpenMetrics.</param>
    public static void WriteTargetInfo(StringBuilder text, string labels, bool openMetrics)
    {
        text.Append(openMetrics ? "# TYPE target info\n# HELP target Target metadata\n" : "# TYPE target_info gauge\n# HELP target_info Target metadata\n");
        text.Append("target_info{").Append(labels).Append("} 1\n");
    }

    /// <summary>Writes <paramref name="metric"/>'s family, or nothing if it has no series.</summary>
    /// <param name="text">The destination.</param>
    /// <param name="metric">The instrument.</param>
    /// <param name="openMetrics">Whether to write OpenMetrics.</param>
    public static void Write(StringBuilder text, InstrumentMetric metric, bool openMetrics)
    {
        var series = metric.Series;
        if (series.IsEmpty)
        {
            return;
        }

        var family = openMetrics && metric.Type == PrometheusMetricType.Counter ? metric.Name[..^"_total".Length] : metric.Name;
        text.Append("# TYPE ").Append(family).Append(' ').Append(TypeName(metric.Type)).Append('\n');
        if (openMetrics && !string.IsNullOrEmpty(metric.Instrument.Unit) && PrometheusNames.Unit(metric.Instrument.Unit) is { Length: > 0 } unit)
        {
            text.Append("# UNIT ").Append(family).Append(' ').Append(unit).Append('\n');
        }

        if (!string.IsNullOrEmpty(metric.Instrument.Description))
        {
            text.Append("# HELP ").Append(family).Append(' ');
            AppendHelp(text, metric.Instrument.Description);
            text.Append('\n');
        }

        Span<long> buckets = stackalloc long[metric.Boundaries.Length + 1];
        foreach (var one in series)
        {
            if (one is HistogramSeries histogram)
            {
                WriteHistogram(text, metric, histogram, buckets, openMetrics);
                continue;
            }

            Sample(text, metric.Name, metric, one.Tags).Append(' ');
            if (one.FloatingPoint)
            {
                AppendDouble(text, one.DoubleValue);
            }
            else
            {
                text.Append(one.LongValue.ToString(CultureInfo.InvariantCulture));
            }

            text.Append('\n');
            if (openMetrics && metric.Type == PrometheusMetricType.Counter)
            {
                Created(text, family, metric, one);
            }
        }
    }

    private static void WriteHistogram(StringBuilder text, InstrumentMetric metric, HistogramSeries histogram, Span<long> buckets, bool openMetrics)
    {
        histogram.CopyBuckets(buckets);
        var cumulative = 0L;
        for (var i = 0; i < buckets.Length; i++)
        {
            cumulative += buckets[i];
            Sample(text, metric.Name + "_bucket", metric, histogram.Tags, "le=\"");
            if (i < metric.Boundaries.Length)
            {
                AppendBound(text, metric.Boundaries[i], openMetrics);
            }
            else
            {
                text.Append("+Inf");
            }

            text.Append("\"} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        Sample(text, metric.Name + "_sum", metric, histogram.Tags).Append(' ');
        AppendDouble(text, histogram.Sum);
        text.Append('\n');
        Sample(text, metric.Name + "_count", metric, histogram.Tags).Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (openMetrics)
        {
            Created(text, metric.Name, metric, histogram);
        }
    }

    private static void Created(StringBuilder text, string family, InstrumentMetric metric, MetricSeries series)
    {
        Sample(text, family + "_created", metric, series.Tags).Append(' ');
        AppendDouble(text, series.StartSeconds);
        text.Append('\n');
    }

    // name{otel_scope_name="meter",labels[,extra...]: the caller closes the braces when it passes an extra label.
    private static StringBuilder Sample(StringBuilder text, string name, InstrumentMetric metric, TagSet tags, string? extra = null)
    {
        text.Append(name).Append("{otel_scope_name=\"");
        TagSet.AppendEscaped(text, metric.Instrument.Meter.Name);
        text.Append('"');
        if (!string.IsNullOrEmpty(metric.Instrument.Meter.Version))
        {
            text.Append(",otel_scope_version=\"");
            TagSet.AppendEscaped(text, metric.Instrument.Meter.Version);
            text.Append('"');
        }

        if (tags.Labels.Length > 0)
        {
            text.Append(',').Append(tags.Labels);
        }

        return extra is null ? text.Append('}') : text.Append(',').Append(extra);
    }

    private static string TypeName(PrometheusMetricType type) => type switch
    {
        PrometheusMetricType.Counter => "counter",
        PrometheusMetricType.Histogram => "histogram",
        _ => "gauge",
    };

    private static void AppendHelp(StringBuilder text, string help)
    {
        foreach (var c in help)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '\n' => text.Append(@"\n"),
                _ => text.Append(c),
            };
        }
    }

    /// <summary>A sample value: the shortest text that reads back as the same double; <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>.</summary>
    /// <param name="text">The destination.</param>
    /// <param name="value">The value.</param>
    public static void AppendDouble(StringBuilder text, double value) => text.Append(
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString(CultureInfo.InvariantCulture));

    // OpenMetrics wants le as a float: 1.0, not 1.
    private static void AppendBound(StringBuilder text, double bound, bool openMetrics)
    {
        var formatted = bound.ToString(CultureInfo.InvariantCulture);
        text.Append(formatted);
        if (openMetrics && formatted.AsSpan().IndexOfAny('.', 'E') < 0)
        {
            text.Append(".0");
        }
    }
}
