using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdApp.Proxy.Observability.Metrics;

/// <summary>
/// The meter <c>pdapp.proxy.upstream</c>: where a request's time goes before the client sees a
/// token: waiting for admission and D's time to first byte (the prefill call's duration is
/// <c>pdapp.proxy.prefill.duration</c> on the <c>pdapp.proxy</c> meter).
/// </summary>
public sealed class UpstreamTimingMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "pdapp.proxy.upstream";

    private static readonly double[] LatencyBuckets =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0];

    private readonly Histogram<double> _queueTime;
    private readonly UpDownCounter<long> _queueDepth;
    private readonly Histogram<double> _decodeTimeToFirstByte;
    private readonly Histogram<double> _decodeDuration;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public UpstreamTimingMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets };
        _queueTime = Meter.CreateHistogram("pdapp.proxy.admission.queue_time", "s",
            "Time a request waited for admission (rate limit and concurrency queue), by outcome.", advice: advice);
        _queueDepth = Meter.CreateUpDownCounter<long>("pdapp.proxy.admission.queue_depth", "{request}",
            "Requests waiting for admission now.");
        _decodeTimeToFirstByte = Meter.CreateHistogram("pdapp.proxy.decode.time_to_first_byte", "s",
            "From sending the decode request to D's response headers, by instance and status.", advice: advice);
        _decodeDuration = Meter.CreateHistogram("pdapp.proxy.decode.duration", "s",
            "One decode relay, until its last byte reached the client, by instance and outcome.", advice: advice);
    }

    /// <summary>The meter (tests listen to this instance).</summary>
    public Meter Meter { get; }

    /// <summary>A request started waiting for admission.</summary>
    public void QueueEntered() => _queueDepth.Add(1);

    /// <summary>A request stopped waiting for admission.</summary>
    /// <param name="seconds">How long it waited.</param>
    /// <param name="outcome"><c>admitted</c>, <c>rate_limited</c>, <c>queue_full</c>, <c>queue_timeout</c> or <c>canceled</c>.</param>
    public void QueueLeft(double seconds, string outcome)
    {
        _queueDepth.Add(-1);
        _queueTime.Record(seconds, new KeyValuePair<string, object?>("outcome", outcome));
    }

    /// <summary>D's response headers arrived.</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="connector">The connector.</param>
    /// <param name="statusCode">D's status.</param>
    /// <param name="seconds">Time since the decode request was sent.</param>
    public void DecodeResponded(string instance, string connector, int statusCode, double seconds) =>
        _decodeTimeToFirstByte.Record(seconds, new TagList { { "instance", instance }, { "connector", connector }, { "status", statusCode } });

    /// <summary>A decode relay ended.</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="connector">The connector.</param>
    /// <param name="outcome">relayed, stream_error, failed, connect_failed or canceled.</param>
    /// <param name="seconds">Its duration.</param>
    public void DecodeCompleted(string instance, string connector, string outcome, double seconds) =>
        _decodeDuration.Record(seconds, new TagList { { "instance", instance }, { "connector", connector }, { "outcome", outcome } });
}
