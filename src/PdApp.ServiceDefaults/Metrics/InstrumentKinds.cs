using System.Diagnostics.Metrics;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>Maps an instrument's .NET type to its Prometheus type, aggregation and histogram buckets.</summary>
internal static class InstrumentKinds
{
    /// <summary>Describes <paramref name="instrument"/>, or null for an instrument type this exporter does not know.</summary>
    /// <param name="instrument">The instrument.</param>
    /// <param name="options">Bucket overrides and the cardinality limit.</param>
    /// <returns>The export description, or null.</returns>
    public static InstrumentMetric? Describe(Instrument instrument, PrometheusMetricsOptions options)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        var valueType = type.GetGenericArguments()[0];
        var floatingPoint = valueType == typeof(double) || valueType == typeof(float) || valueType == typeof(decimal);
        (PrometheusMetricType Kind, bool Observable, bool Sets)? kind =
            definition == typeof(Counter<>) ? (PrometheusMetricType.Counter, false, false)
            : definition == typeof(ObservableCounter<>) ? (PrometheusMetricType.Counter, true, true)
            : definition == typeof(UpDownCounter<>) ? (PrometheusMetricType.Gauge, false, false)
            : definition == typeof(ObservableUpDownCounter<>) ? (PrometheusMetricType.Gauge, true, true)
            : definition == typeof(Gauge<>) ? (PrometheusMetricType.Gauge, false, true)
            : definition == typeof(ObservableGauge<>) ? (PrometheusMetricType.Gauge, true, true)
            : definition == typeof(Histogram<>) ? (PrometheusMetricType.Histogram, false, false)
            : null;
        if (kind is not { } k)
        {
            return null;
        }

        var boundaries = k.Kind == PrometheusMetricType.Histogram ? Boundaries(instrument, options) : [];
        return new InstrumentMetric(instrument, k.Kind, k.Observable, k.Sets, floatingPoint, boundaries, options.CardinalityLimit);
    }

    private static double[] Boundaries(Instrument instrument, PrometheusMetricsOptions options)
    {
        if (options.HistogramBoundaries.TryGetValue(instrument.Name, out var configured))
        {
            return Sorted(configured);
        }

        IEnumerable<double>? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Histogram<short> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Histogram<byte> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            Histogram<decimal> h => h.Advice?.HistogramBucketBoundaries?.Select(static b => (double)b),
            _ => null,
        };
        return Sorted(advised ?? PrometheusMetricsOptions.DefaultBoundaries);
    }

    private static double[] Sorted(IEnumerable<double> boundaries) =>
        [.. boundaries.Where(static b => !double.IsNaN(b) && !double.IsInfinity(b)).Distinct().Order()];
}
