namespace PdApp.Proxy.Security;

/// <summary>Puts the <see cref="PdAccess.ClientPolicy"/> on the <c>/v1</c> endpoints.</summary>
public static class ClientAccessEndpointExtensions
{
    /// <summary>
    /// Requires the client key on <paramref name="builder"/>'s endpoints when one is configured
    /// (<c>Pd:ApiKey</c>). Without one the policy admits every request, so it is not attached at
    /// all: no key is read, hashed or authorized on the request path.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints.</param>
    /// <param name="services">The application's services (holding the configured keys).</param>
    /// <returns>The builder.</returns>
    public static TBuilder RequireClientAccess<TBuilder>(this TBuilder builder, IServiceProvider services)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(services);
        return services.GetService<ApiKeys>() is { Client: null }
            ? builder
            : builder.RequireAuthorization(PdAccess.ClientPolicy);
    }
}
