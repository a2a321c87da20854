namespace PdApp.Proxy.Routing;

/// <summary>
/// The routing layer's health events, reported where they happen; observability implements it
/// (<c>pdapp.instance.ejections</c>, <c>pdapp.instance.unhealthy_transitions</c>).
/// </summary>
public interface IRoutingObserver
{
    /// <summary>Passive health checking ejected <paramref name="instance"/>.</summary>
    /// <param name="instance">The instance.</param>
    void InstanceEjected(UpstreamInstance instance);

    /// <summary>An active health check turned <paramref name="instance"/> unhealthy.</summary>
    /// <param name="instance">The instance.</param>
    void InstanceTurnedUnhealthy(UpstreamInstance instance);
}
