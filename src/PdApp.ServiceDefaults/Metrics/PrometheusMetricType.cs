namespace PdApp.ServiceDefaults.Metrics;

/// <summary>The Prometheus type an instrument is exported as.</summary>
public enum PrometheusMetricType
{
    /// <summary>A monotonic sum (<c>Counter</c>, <c>ObservableCounter</c>): the name ends in <c>_total</c>.</summary>
    Counter,

    /// <summary>A value that goes up and down (<c>UpDownCounter</c>, <c>Gauge</c> and their observable forms).</summary>
    Gauge,

    /// <summary>A <c>Histogram</c>: cumulative <c>_bucket</c> series, <c>_sum</c> and <c>_count</c>.</summary>
    Histogram,
}
