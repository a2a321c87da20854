namespace PdApp.Proxy.Routing.Balancing;

/// <summary>One selection: the role's instances (a registry snapshot), the request, and the time.</summary>
/// <param name="Instances">Every instance serving the role, available or not; its identity changes only when the set does.</param>
/// <param name="Context">The request's routing facts.</param>
/// <param name="Now">The time availability is judged at.</param>
internal readonly record struct SelectionRequest(IReadOnlyList<UpstreamInstance> Instances, RoutingContext Context, DateTimeOffset Now)
{
    /// <summary>Healthy, not draining, not ejected, and not excluded by the caller.</summary>
    public bool IsEligible(UpstreamInstance instance) =>
        instance.IsAvailable(Now) && (Context.Exclude is not { } exclude || !exclude.Contains(instance));
}
