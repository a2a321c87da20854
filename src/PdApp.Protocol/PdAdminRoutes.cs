namespace PdApp.Protocol;

/// <summary>
/// The proxy's admin API routes, mapped by the proxy and called by the app host's dashboard commands,
/// so both sides name them once.
/// </summary>
public static class PdAdminRoutes
{
    /// <summary><c>/admin/instances</c>: the instance list (GET), and where instances are added (POST).</summary>
    public const string Instances = "/admin/instances";

    /// <summary>The route of one instance, relative to <see cref="Instances"/>.</summary>
    public const string InstanceTemplate = "/{name}";

    /// <summary>The drain action, relative to <see cref="Instances"/>.</summary>
    public const string DrainTemplate = "/{name}/" + DrainAction;

    /// <summary>The undrain action, relative to <see cref="Instances"/>.</summary>
    public const string UndrainTemplate = "/{name}/" + UndrainAction;

    private const string DrainAction = "drain";
    private const string UndrainAction = "undrain";

    /// <summary>The path of instance <paramref name="name"/>.</summary>
    /// <param name="name">The instance's name.</param>
    /// <returns><c>/admin/instances/{name}</c>, the name escaped.</returns>
    public static string Instance(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return $"{Instances}/{Uri.EscapeDataString(name)}";
    }

    /// <summary>The path that drains (or undrains) instance <paramref name="name"/>.</summary>
    /// <param name="name">The instance's name.</param>
    /// <param name="drain">True to drain, false to undrain.</param>
    /// <returns><c>/admin/instances/{name}/drain</c> or <c>/undrain</c>.</returns>
    public static string Draining(string name, bool drain) => $"{Instance(name)}/{(drain ? DrainAction : UndrainAction)}";
}
