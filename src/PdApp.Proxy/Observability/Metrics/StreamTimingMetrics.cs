using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdApp.Proxy.Observability.Metrics;

/// <summary>
/// The meter <c>pdapp.proxy.stream</c>: token timing as the client sees it, measured on the relayed
/// SSE bytes (each <c>data:</c> event but <c>[DONE]</c> and in-band errors is one chunk; vLLM sends
/// one token per chunk by default). Buckets follow vLLM's own TTFT and TPOT histograms
/// (vllm/v1/metrics/loggers.py) so the proxy's view lines up with each engine's.
/// </summary>
public sealed class StreamTimingMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "pdapp.proxy.stream";

    private static readonly double[] TtftBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    private static readonly double[] TpotBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _interChunkLatency;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Counter<long> _chunks;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public StreamTimingMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _timeToFirstToken = Meter.CreateHistogram("pdapp.proxy.time_to_first_token", "s",
            "From the client's request reaching the proxy to the first streamed chunk relayed back (prefill, transfer and D's first step included).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TtftBuckets });
        _interChunkLatency = Meter.CreateHistogram("pdapp.proxy.inter_chunk_latency", "s",
            "Time between consecutive streamed chunks relayed to the client.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TpotBuckets });
        _timePerOutputToken = Meter.CreateHistogram("pdapp.proxy.time_per_output_token", "s",
            "Per streamed request: (last chunk - first chunk) / (chunks - 1).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TpotBuckets });
        _chunks = Meter.CreateCounter<long>("pdapp.proxy.stream.chunks", "{chunk}", "Streamed chunks relayed to clients.");
    }

    /// <summary>The meter (tests listen to this instance).</summary>
    public Meter Meter { get; }

    /// <summary>A chunk was relayed <paramref name="gapSeconds"/> after the previous one.</summary>
    /// <param name="route">The route path.</param>
    /// <param name="connector">The connector.</param>
    /// <param name="gapSeconds">The gap, or null for the first chunk.</param>
    public void ChunkRelayed(string route, string connector, double? gapSeconds)
    {
        var tags = new TagList { { "route", route }, { "connector", connector } };
        _chunks.Add(1, tags);
        if (gapSeconds is { } gap)
        {
            _interChunkLatency.Record(gap, tags);
        }
    }

    /// <summary>A streamed request ended.</summary>
    /// <param name="route">The route path.</param>
    /// <param name="connector">The connector.</param>
    /// <param name="mode">pd, prefill-skipped or decode-only.</param>
    /// <param name="timeToFirstToken">Seconds to the first chunk.</param>
    /// <param name="timePerOutputToken">Mean seconds between chunks, when there were two or more.</param>
    public void StreamCompleted(string route, string connector, string mode, double timeToFirstToken, double? timePerOutputToken)
    {
        var tags = new TagList { { "route", route }, { "connector", connector }, { "mode", mode } };
        _timeToFirstToken.Record(timeToFirstToken, tags);
        if (timePerOutputToken is { } tpot)
        {
            _timePerOutputToken.Record(tpot, tags);
        }
    }
}
