using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdApp.Tests.Observability.Infrastructure;

/// <summary>One measurement with its tags.</summary>
/// <param name="Instrument">The instrument name.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Value">The value.</param>
/// <param name="Tags">The tags.</param>
public sealed record RecordedMeasurement(string Instrument, string? Unit, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>The tag's value as a string.</summary>
    /// <param name="name">The tag.</param>
    /// <returns>The value, or null.</returns>
    public string? Tag(string name) => Tags.TryGetValue(name, out var value) ? value?.ToString() : null;
}

/// <summary>
/// Records every measurement of the given meter instances (one proxy's, not another test's),
/// observable instruments included when <see cref="Observe"/> is called.
/// </summary>
public sealed class InstrumentRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<RecordedMeasurement> _measurements = new();

    /// <summary>Listens to <paramref name="meters"/>.</summary>
    /// <param name="meters">The meter instances.</param>
    public InstrumentRecorder(params Meter[] meters)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (meters.Any(m => ReferenceEquals(m, instrument.Meter)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        _listener.Start();
    }

    /// <summary>Everything recorded so far.</summary>
    public IReadOnlyList<RecordedMeasurement> All => [.. _measurements];

    /// <summary>The measurements of <paramref name="instrument"/>.</summary>
    /// <param name="instrument">The name.</param>
    /// <returns>Its measurements.</returns>
    public IReadOnlyList<RecordedMeasurement> Of(string instrument) => [.. _measurements.Where(m => m.Instrument == instrument)];

    /// <summary>Collects the observable instruments once (what an exporter does on each export).</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    /// <summary>Waits until <paramref name="condition"/> holds on the measurements of <paramref name="instrument"/>.</summary>
    /// <param name="instrument">The instrument.</param>
    /// <param name="condition">The condition.</param>
    /// <param name="observe">Whether to collect observable instruments on each try.</param>
    /// <returns>The measurements when it held (or at the deadline).</returns>
    public async Task<IReadOnlyList<RecordedMeasurement>> WaitForAsync(
        string instrument, Func<IReadOnlyList<RecordedMeasurement>, bool> condition, bool observe = false)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            if (observe)
            {
                Observe();
            }

            var measurements = Of(instrument);
            if (condition(measurements) || DateTime.UtcNow > deadline)
            {
                return measurements;
            }

            await Task.Delay(20);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, tagValue) in tags)
        {
            copy[key] = tagValue;
        }

        _measurements.Enqueue(new RecordedMeasurement(instrument.Name, instrument.Unit, value, copy));
    }
}
