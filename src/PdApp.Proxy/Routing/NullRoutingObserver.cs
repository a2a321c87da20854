namespace PdApp.Proxy.Routing;

/// <summary>Observes nothing: the routing observer while observability is not registered.</summary>
internal sealed class NullRoutingObserver : IRoutingObserver
{
    public static NullRoutingObserver Instance { get; } = new();

    public void InstanceEjected(UpstreamInstance instance)
    {
    }

    public void InstanceTurnedUnhealthy(UpstreamInstance instance)
    {
    }

    public void LoadScraped(UpstreamInstance instance, double seconds)
    {
    }

    public void LoadScrapeFailed(UpstreamInstance instance, string reason)
    {
    }
}
