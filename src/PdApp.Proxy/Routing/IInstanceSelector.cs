using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>Chooses the instance for one upstream call with the role's balancing policy.</summary>
public interface IInstanceSelector
{
    /// <summary>
    /// Chooses an available instance serving <paramref name="role"/>, or returns null when none
    /// is available (the caller answers 503 or falls back).
    /// </summary>
    /// <param name="role">Prefill or decode.</param>
    /// <param name="context">The request's routing facts.</param>
    /// <returns>A lease on the chosen instance, or null.</returns>
    InstanceLease? Select(PdRole role, RoutingContext context);

    /// <summary>Whether at least one instance serving <paramref name="role"/> is available now.</summary>
    /// <param name="role">Prefill or decode.</param>
    /// <returns>True when one is.</returns>
    bool HasAvailable(PdRole role);
}
