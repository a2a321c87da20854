using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>The live set of upstream instances, fed by configuration, the P2pNccl registry, the admin API and DNS.</summary>
public interface IInstanceRegistry
{
    /// <summary>A snapshot of every known instance.</summary>
    IReadOnlyList<UpstreamInstance> Instances { get; }

    /// <summary>A snapshot of the instances that serve <paramref name="role"/>.</summary>
    /// <param name="role">The role.</param>
    /// <returns>The instances (available or not).</returns>
    IReadOnlyList<UpstreamInstance> GetInstances(PdRole role);

    /// <summary>Finds an instance by name.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The instance, or null.</returns>
    UpstreamInstance? Find(string name);

    /// <summary>Adds or replaces an instance.</summary>
    /// <param name="instance">The instance.</param>
    void AddOrUpdate(UpstreamInstance instance);

    /// <summary>Removes an instance; requests already running on it finish.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when it was known.</returns>
    bool Remove(string name);
}
