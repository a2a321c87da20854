namespace PdApp.Proxy.Routing.KvCache;

/// <summary>Creates meters nobody collects from the host (for <see cref="KvAwareServices.Detached"/>).</summary>
internal sealed class DetachedMeterFactory : System.Diagnostics.Metrics.IMeterFactory
{
    public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

    public void Dispose()
    {
    }
}
