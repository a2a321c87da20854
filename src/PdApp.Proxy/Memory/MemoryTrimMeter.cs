using System.Diagnostics.Metrics;
using PdApp.Proxy.Observability.Metrics;

namespace PdApp.Proxy.Memory;

/// <summary>
/// The idle trim's instruments on the <c>pdapp.proxy</c> meter: trims run and resident bytes they
/// gave back (the meter factory hands out the one <c>pdapp.proxy</c> meter, already exported).
/// </summary>
public sealed class MemoryTrimMeter
{
    private readonly Counter<long> _trims;
    private readonly Counter<long> _released;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public MemoryTrimMeter(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(ProxyMeter.MeterName);
        _trims = meter.CreateCounter<long>("pdapp.proxy.memory.trims", "{trim}", "Idle memory trims run (Pd:Proxy:Memory).");
        _released = meter.CreateCounter<long>("pdapp.proxy.memory.trim_released", "By", "Resident bytes the idle memory trims gave back to the OS.");
    }

    internal void Trimmed(in MemoryTrimResult result)
    {
        _trims.Add(1);
        _released.Add(Math.Max(0, result.ResidentBefore - result.ResidentAfter));
    }
}
