using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PdApp.Tests.Proxy.Infrastructure;

/// <summary>Records the measurements of one proxy's meter instance (not other tests' proxies).</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

    /// <summary>Starts listening to <paramref name="meter"/>.</summary>
    /// <param name="meter">The meter instance.</param>
    public MetricsRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        _listener.Start();
    }

    /// <summary>The sum recorded by <paramref name="instrument"/>, optionally only with a tag value.</summary>
    /// <param name="instrument">The instrument name.</param>
    /// <param name="tag">A tag name to filter on.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The sum.</returns>
    public double Sum(string instrument, string? tag = null, object? value = null) =>
        _measurements
            .Where(m => m.Instrument == instrument)
            .Where(m => tag is null || m.Tags.Any(t => t.Key == tag && Equals(t.Value?.ToString(), value?.ToString())))
            .Sum(m => m.Value);

    /// <summary>Waits until <paramref name="instrument"/> sums to at least <paramref name="expected"/> (metrics are recorded after the response ends).</summary>
    /// <param name="instrument">The instrument.</param>
    /// <param name="expected">The least sum.</param>
    /// <param name="tag">A tag name to filter on.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The sum.</returns>
    public async Task<double> WaitForAsync(string instrument, double expected, string? tag = null, object? value = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        double sum;
        while ((sum = Sum(instrument, tag, value)) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        return sum;
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
