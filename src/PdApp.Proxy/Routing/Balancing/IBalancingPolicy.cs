namespace PdApp.Proxy.Routing.Balancing;

/// <summary>Chooses one eligible instance; implementations are thread-safe and lock-free.</summary>
internal interface IBalancingPolicy
{
    /// <summary>
    /// Whether the policy weighs what the instances' KV caches hold itself (from the engines' events), so a
    /// request's <see cref="RoutingContext.PrefixHolder"/> is left to it rather than chosen before it.
    /// </summary>
    bool WeighsKvCache => false;

    /// <summary>Chooses an eligible instance, or null when none is.</summary>
    UpstreamInstance? Choose(in SelectionRequest request);

    /// <summary>
    /// Chooses an eligible instance, or null, and the work the call puts on it, which the call's
    /// lease charges to the instance while it lasts (default null: none is estimated, the call counts only as outstanding).
    /// </summary>
    UpstreamInstance? Choose(in SelectionRequest request, out InstanceWork? work)
    {
        work = null;
        return Choose(request);
    }
}
