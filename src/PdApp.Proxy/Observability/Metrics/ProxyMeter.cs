using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdApp.Proxy.Observability.Metrics;

/// <summary>
/// The meter <c>pdapp.proxy</c>, every instrument of the request path defined once: requests and
/// their duration; what only the proxy can see about PD serving (KV transfers expected, confirmed
/// and missed, retries, fallbacks, admission); where a request's time goes before its first token
/// (admission queue, prefill, D's first byte); and token timing as the client sees it, measured on
/// the relayed SSE bytes. Buckets follow vLLM's own histograms (vllm/v1/metrics/loggers.py) so the
/// proxy's view lines up with each engine's. Only <see cref="Requests.RequestObserver"/> records here.
/// </summary>
public sealed class ProxyMeter
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "pdapp.proxy";

    /// <summary>The end-to-end request duration.</summary>
    public const string RequestDurationInstrument = "pdapp.proxy.request.duration";

    /// <summary>The name of the migrations counter (outcome, reason).</summary>
    public const string MigrationsInstrument = "pdapp.proxy.migrations";

    private const int FirstStatus = 100;

    // A tag value is an object: HTTP status codes are boxed once here, not on every record.
    private static readonly object[] BoxedStatuses = [.. Enumerable.Range(FirstStatus, 500).Select(static status => (object)status)];

    private static readonly double[] LatencyBuckets =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0];

    // vLLM's e2e latency buckets: OpenTelemetry's defaults (0, 5, 10, 25 ... meant for ms, read as seconds)
    // would put every request in one bucket.
    private static readonly double[] EndToEndLatencyBuckets =
        [0.01, 0.025, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    private static readonly double[] TtftBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    private static readonly double[] TpotBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _prefillDuration;
    private readonly Counter<long> _transfersExpected;
    private readonly Counter<long> _transfersConfirmed;
    private readonly Counter<long> _transfersMissed;
    private readonly Counter<long> _cancelledAfterPrefill;
    private readonly Counter<long> _prefillRetries;
    private readonly Counter<long> _prefillSkipped;
    private readonly Counter<long> _decodeOnlyFallbacks;
    private readonly Counter<long> _decodeRetries;
    private readonly Counter<long> _migrations;
    private readonly Counter<long> _admissionRejected;
    private readonly Histogram<double> _queueTime;
    private readonly UpDownCounter<long> _queueDepth;
    private readonly Histogram<double> _decodeTimeToFirstByte;
    private readonly Histogram<double> _decodeDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _interChunkLatency;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Counter<long> _chunks;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public ProxyMeter(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        var latency = new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets };
        var tpot = new InstrumentAdvice<double> { HistogramBucketBoundaries = TpotBuckets };

        _requests = Meter.CreateCounter<long>("pdapp.proxy.requests", "{request}", "Completed client requests by route, status and connector.");
        _duration = Meter.CreateHistogram(RequestDurationInstrument, "s", "Client request duration (until the last byte was relayed).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = EndToEndLatencyBuckets });
        _prefillDuration = Meter.CreateHistogram<double>("pdapp.proxy.prefill.duration", "s", "Prefill calls: from sending to P until its whole response was read (a floor for the user's time to first token).");
        _transfersExpected = Meter.CreateCounter<long>("pdapp.proxy.kv_transfers.expected", "{transfer}", "Decode requests sent after a successful prefill, which should find the KV.");
        _transfersConfirmed = Meter.CreateCounter<long>("pdapp.proxy.kv_transfers.confirmed", "{transfer}", "Transfers confirmed by D (simulator header) or by P's kv_transfer_params (Nixl).");
        _transfersMissed = Meter.CreateCounter<long>("pdapp.proxy.kv_transfers.missed", "{transfer}", "Transfers D reported it did not find (it prefilled locally).");
        _cancelledAfterPrefill = Meter.CreateCounter<long>("pdapp.proxy.cancelled_after_prefill", "{request}", "Clients gone after prefill finished and before decode answered: KV possibly left pinned on P.");
        _prefillRetries = Meter.CreateCounter<long>("pdapp.proxy.prefill.retries", "{request}", "Prefills retried on another instance after a failure or timeout.");
        _prefillSkipped = Meter.CreateCounter<long>("pdapp.proxy.prefill.skipped", "{request}", "Requests sent straight to decode because the prompt was under the threshold.");
        _decodeOnlyFallbacks = Meter.CreateCounter<long>("pdapp.proxy.decode_only_fallbacks", "{request}", "Requests served by decode alone because prefill was unavailable or failed.");
        _decodeRetries = Meter.CreateCounter<long>("pdapp.proxy.decode.retries", "{request}", "Decodes moved to another instance after a connect failure.");
        _migrations = Meter.CreateCounter<long>(MigrationsInstrument, "{migration}", "Decode failures handled by request migration, by outcome (migrated, refused, failed) and reason.");
        _admissionRejected = Meter.CreateCounter<long>("pdapp.proxy.admission.rejected", "{request}", "Requests refused with 429 by admission control, by reason.");
        _queueTime = Meter.CreateHistogram("pdapp.proxy.admission.queue_time", "s",
            "Time a request waited for admission (rate limit and concurrency queue), by outcome.", advice: latency);
        _queueDepth = Meter.CreateUpDownCounter<long>("pdapp.proxy.admission.queue_depth", "{request}", "Requests waiting for admission now.");
        _decodeTimeToFirstByte = Meter.CreateHistogram("pdapp.proxy.decode.time_to_first_byte", "s",
            "From sending the decode request to D's response headers, by instance and status.", advice: latency);
        _decodeDuration = Meter.CreateHistogram("pdapp.proxy.decode.duration", "s",
            "One decode relay, until its last byte reached the client, by instance and outcome.", advice: latency);
        _timeToFirstToken = Meter.CreateHistogram("pdapp.proxy.time_to_first_token", "s",
            "From the client's request reaching the proxy to the first streamed chunk relayed back (prefill, transfer and D's first step included).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TtftBuckets });
        _interChunkLatency = Meter.CreateHistogram("pdapp.proxy.inter_chunk_latency", "s",
            "Per streamed request: the longest time between two consecutive chunks relayed to the client (a stall shows here; the typical gap is time_per_output_token).",
            advice: tpot);
        _timePerOutputToken = Meter.CreateHistogram("pdapp.proxy.time_per_output_token", "s", "Per streamed request: (last chunk - first chunk) / (chunks - 1).", advice: tpot);
        _chunks = Meter.CreateCounter<long>("pdapp.proxy.stream.chunks", "{chunk}", "Streamed chunks relayed to clients.");
    }

    /// <summary>The meter (tests listen to this instance).</summary>
    public Meter Meter { get; }

    internal void RequestCompleted(string route, int statusCode, string connector, double seconds)
    {
        var tags = new TagList { { "route", route }, { "status", StatusTag(statusCode) }, { "connector", connector } };
        _requests.Add(1, tags);
        _duration.Record(seconds, tags);
    }

    internal void PrefillCompleted(string connector, string outcome, double seconds) =>
        _prefillDuration.Record(seconds, new KeyValuePair<string, object?>("connector", connector), new KeyValuePair<string, object?>("outcome", outcome));

    internal void KvTransferExpected(string connector) => _transfersExpected.Add(1, Connector(connector));

    internal void KvTransferConfirmed(string connector) => _transfersConfirmed.Add(1, Connector(connector));

    internal void KvTransferMissed(string connector) => _transfersMissed.Add(1, Connector(connector));

    internal void CancelledAfterPrefill(string connector) => _cancelledAfterPrefill.Add(1, Connector(connector));

    internal void PrefillRetried(string reason) => _prefillRetries.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void PrefillSkipped() => _prefillSkipped.Add(1);

    internal void DecodeOnlyFallback(string reason) => _decodeOnlyFallbacks.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void DecodeRetried() => _decodeRetries.Add(1);

    internal void Migration(string outcome, string reason) =>
        _migrations.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason));

    internal void QueueEntered() => _queueDepth.Add(1);

    internal void QueueLeft(double seconds, string outcome)
    {
        _queueDepth.Add(-1);
        _queueTime.Record(seconds, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome is not ("admitted" or "canceled"))
        {
            _admissionRejected.Add(1, new KeyValuePair<string, object?>("reason", outcome));
        }
    }

    internal void DecodeResponded(string instance, string connector, int statusCode, double seconds) =>
        _decodeTimeToFirstByte.Record(seconds, new TagList { { "instance", instance }, { "connector", connector }, { "status", StatusTag(statusCode) } });

    internal void DecodeCompleted(string instance, string connector, string outcome, double seconds) =>
        _decodeDuration.Record(seconds, new TagList { { "instance", instance }, { "connector", connector }, { "outcome", outcome } });

    // Once per stream, not per chunk: a histogram update per token cost more than the relay itself.
    internal void LongestChunkGap(string route, string connector, double gapSeconds) =>
        _interChunkLatency.Record(gapSeconds, new KeyValuePair<string, object?>("route", route), new KeyValuePair<string, object?>("connector", connector));

    internal void ChunksRelayed(string route, string connector, int chunks) =>
        _chunks.Add(chunks, new KeyValuePair<string, object?>("route", route), new KeyValuePair<string, object?>("connector", connector));

    internal void StreamCompleted(string route, string connector, string mode, double timeToFirstToken, double? timePerOutputToken)
    {
        var tags = new TagList { { "route", route }, { "connector", connector }, { "mode", mode } };
        _timeToFirstToken.Record(timeToFirstToken, tags);
        if (timePerOutputToken is { } perToken)
        {
            _timePerOutputToken.Record(perToken, tags);
        }
    }

    private static KeyValuePair<string, object?> Connector(string connector) => new("connector", connector);

    private static object StatusTag(int statusCode) =>
        (uint)(statusCode - FirstStatus) < (uint)BoxedStatuses.Length ? BoxedStatuses[statusCode - FirstStatus] : statusCode;
}
