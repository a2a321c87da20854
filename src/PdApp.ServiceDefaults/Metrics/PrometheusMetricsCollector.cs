using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Options;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// The lean Prometheus exporter's aggregation: a <see cref="MeterListener"/> subscribed to the instruments of
/// <see cref="PrometheusMetricsOptions.Meters"/> (less the dropped ones), keeping each series' cumulative
/// value as OpenTelemetry's SDK with cumulative temporality would, and writing them in the Prometheus text
/// format on demand. Replaces the OpenTelemetry metrics SDK and its Prometheus exporter for <c>/metrics</c>:
/// no up-front data-point arrays per metric stream, no view or exemplar machinery per measurement
/// (bench/RESULTS.md 4.19). Listening starts when the collector is created. Created with the host's
/// <see cref="IMeterFactory"/>, it exports that host's meters and the process's unscoped (static) ones, not
/// the meters of another host in the same process (the Aspire test host, tests that run several services).
/// </summary>
public sealed class PrometheusMetricsCollector : IDisposable
{
    private readonly PrometheusMetricsOptions _options;
    private readonly IMeterFactory? _scope;
    private readonly MeterListener _listener;
    private readonly Lock _instrumentsLock = new();
    private readonly Lock _scrapeLock = new();
    private readonly StringBuilder _text = new();
    private readonly string _resourceLabels;
    private InstrumentMetric[] _instruments = [];

    private const int RetainedTextCapacity = 256 * 1024;

    /// <summary>
    /// Creates the collector and starts listening: to the configured meters that <paramref name="meterFactory"/>
    /// created and to unscoped ones (runtime and static library meters), as one host's exporter should; without a
    /// factory, to every meter of the configured names in the process.
    /// </summary>
    /// <param name="options">What to listen to.</param>
    /// <param name="meterFactory">The host's meter factory, or null.</param>
    public PrometheusMetricsCollector(IOptions<PrometheusMetricsOptions> options, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _scope = meterFactory;
        _resourceLabels = ResourceLabels.Render(Environment.GetEnvironmentVariable);
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentMetric)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((InstrumentMetric)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>The content type of the Prometheus text format 0.0.4.</summary>
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The content type of OpenMetrics 1.0 (what Prometheus asks for first).</summary>
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// <summary>
    /// Collects the observable instruments and writes <c>target_info</c> and every exported series, by metric
    /// name. Concurrent scrapes are serialised (observable callbacks run once per scrape).
    /// </summary>
    /// <param name="openMetrics">OpenMetrics 1.0 rather than the Prometheus text format 0.0.4.</param>
    /// <param name="destination">Receives the text in pieces, in order, while the scrape holds its lock.</param>
    public void Write(bool openMetrics, Action<ReadOnlyMemory<char>> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        lock (_scrapeLock)
        {
            _listener.RecordObservableInstruments();
            _text.Clear();
            PrometheusTextWriter.WriteTargetInfo(_text, _resourceLabels, openMetrics);
            foreach (var metric in Volatile.Read(ref _instruments))
            {
                PrometheusTextWriter.Write(_text, metric, openMetrics);
            }

            if (openMetrics)
            {
                _text.Append("# EOF\n");
            }

            foreach (var chunk in _text.GetChunks())
            {
                destination(chunk);
            }

            // A burst of series must not keep a large builder for the life of the process.
            if (_text.Capacity > RetainedTextCapacity)
            {
                _text.Clear();
                _text.Capacity = RetainedTextCapacity;
            }
        }
    }

    /// <summary>Writes every exported series to a string (tests, diagnostics).</summary>
    /// <param name="openMetrics">OpenMetrics 1.0 rather than the Prometheus text format 0.0.4.</param>
    /// <returns>The text.</returns>
    public string WriteToString(bool openMetrics = false)
    {
        var text = new StringBuilder();
        Write(openMetrics, chunk => text.Append(chunk.Span));
        return text.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    // A meter another host's factory created belongs to that host's exporter.
    private bool InScope(Meter meter) => _scope is null || meter.Scope is null || ReferenceEquals(meter.Scope, _scope);

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_options.Meters.Contains(instrument.Meter.Name) || !InScope(instrument.Meter) || _options.IsDropped(instrument.Name)
            || InstrumentKinds.Describe(instrument, _options) is not { } metric)
        {
            return;
        }

        lock (_instrumentsLock)
        {
            // The same instrument from two meters of one name (a meter factory's and the static one, as HttpClient
            // has) is one metric, as in OpenTelemetry: both record into the first one's series.
            foreach (var existing in _instruments)
            {
                if (existing.Name == metric.Name)
                {
                    if (existing.Type == metric.Type && existing.FloatingPoint == metric.FloatingPoint && existing.Instrument.Meter.Name == instrument.Meter.Name)
                    {
                        listener.EnableMeasurementEvents(instrument, existing);
                    }

                    return;
                }
            }

            // By name, as the exporter wrote them.
            Volatile.Write(ref _instruments, [.. _instruments.Append(metric).OrderBy(static m => m.Name, StringComparer.Ordinal)]);
        }

        listener.EnableMeasurementEvents(instrument, metric);
    }
}
