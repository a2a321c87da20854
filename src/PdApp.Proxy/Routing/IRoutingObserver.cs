namespace PdApp.Proxy.Routing;

/// <summary>
/// The routing layer's events, reported where they happen; observability implements it
/// (<c>pdapp.instance.ejections</c>, <c>pdapp.instance.unhealthy_transitions</c>, the load scrape
/// counters).
/// </summary>
public interface IRoutingObserver
{
    /// <summary>Passive health checking ejected <paramref name="instance"/>.</summary>
    /// <param name="instance">The instance.</param>
    void InstanceEjected(UpstreamInstance instance);

    /// <summary>An active health check turned <paramref name="instance"/> unhealthy.</summary>
    /// <param name="instance">The instance.</param>
    void InstanceTurnedUnhealthy(UpstreamInstance instance);

    /// <summary>A scrape of <paramref name="instance"/>'s <c>/metrics</c> finished (successfully or not).</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="seconds">Its duration.</param>
    void LoadScraped(UpstreamInstance instance, double seconds);

    /// <summary>A scrape failed.</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="reason"><c>timeout</c>, <c>http_status</c>, <c>transport</c>, <c>too_large</c> or <c>no_vllm_gauges</c>.</param>
    void LoadScrapeFailed(UpstreamInstance instance, string reason);

    /// <summary>The P2pNccl registry refused a registration.</summary>
    /// <param name="reason"><c>address_not_allowed</c>, <c>unsigned</c> or <c>bad_signature</c>.</param>
    void RegistrationRejected(string reason)
    {
    }
}
