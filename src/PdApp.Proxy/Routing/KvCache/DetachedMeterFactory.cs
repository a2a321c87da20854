namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// Creates meters nobody collects from the host (for <see cref="KvAwareServices.Detached"/>): scoped to this
/// factory, so a host's exporter, which takes its own factory's meters and unscoped ones, leaves them out.
/// </summary>
internal sealed class DetachedMeterFactory : System.Diagnostics.Metrics.IMeterFactory
{
    public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Scope = this;
        return new(options);
    }

    public void Dispose()
    {
    }
}
