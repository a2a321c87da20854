using PdApp.Protocol;

namespace PdApp.Proxy.Routing.Health;

/// <summary>
/// Why the instances of a role cannot take a request, in words a client may read: names and
/// states (<c>decode-0 is drained</c>), never internal addresses.
/// </summary>
public static class InstanceUnavailability
{
    /// <summary>The state word of an instance that is not available, or null when it is.</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="now">The current time.</param>
    /// <returns><c>drained</c>, <c>unhealthy</c>, <c>ejected</c> or null.</returns>
    public static string? Reason(UpstreamInstance instance, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.IsDraining)
        {
            return "drained";
        }

        if (!instance.IsHealthy)
        {
            return "unhealthy";
        }

        return instance.EjectedUntil is { } until && until > now ? "ejected" : null;
    }

    /// <summary>
    /// The client-facing message when no <paramref name="role"/> instance can be selected, e.g.
    /// <c>No decode instance is available: decode-0 is drained.</c>
    /// </summary>
    /// <param name="role">The role that found no instance.</param>
    /// <param name="instances">The registered instances of that role.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The message.</returns>
    public static string Describe(PdRole role, IReadOnlyList<UpstreamInstance> instances, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var name = role.ToString().ToLowerInvariant();
        if (instances.Count == 0)
        {
            return $"No {name} instance is available: none is registered.";
        }

        var reasons = instances
            .Select(instance => (instance.Name, Reason: Reason(instance, now)))
            .Where(pair => pair.Reason is not null)
            .Select(pair => $"{pair.Name} is {pair.Reason}")
            .ToList();
        return reasons.Count == 0
            ? $"No {name} instance is available: all are busy or excluded."
            : $"No {name} instance is available: {string.Join(", ", reasons)}.";
    }
}
