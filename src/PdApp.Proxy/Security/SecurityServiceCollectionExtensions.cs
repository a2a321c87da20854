using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PdApp.Proxy.Security;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the proxy's authentication scheme and its client and admin policies.</summary>
public static class SecurityServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="PdAccess.Scheme"/> bearer-key scheme (keys from <c>Pd:ApiKey</c> and
    /// <c>Pd:AdminApiKey</c>, compared as SHA-256 digests in constant time), the
    /// <see cref="PdAccess.ClientPolicy"/> and <see cref="PdAccess.AdminPolicy"/> policies, and
    /// OpenAI-shaped 401/404 refusals. Endpoints opt in with <c>RequireAuthorization(policy)</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration holding the <c>Pd</c> section.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddPdSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(ApiKeys)))
        {
            return services;
        }

        services.AddOptions<ApiKeyOptions>().Configure(o => ApiKeyOptions.Bind(o, configuration)).ValidateOnStart();
        services.AddSingleton<ApiKeys>();
        // No default scheme (not even the automatic one of a single scheme, see PolicyOnlySchemeProvider):
        // only endpoints that name a policy pay for reading the key.
        // AddAuthenticationCore rather than AddAuthentication: the latter also adds data protection,
        // whose hosted service reads (or creates and writes) a key ring under ~/.aspnet at start-up,
        // loading XML, cryptography and OpenSSL (~10 MB resident) for no scheme here needs them
        // (bench/RESULTS.md 4.14). The handler needs only the scheme provider and a UrlEncoder.
        services.AddAuthenticationCore();
        services.AddWebEncoders();
        new AuthenticationBuilder(services)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(PdAccess.Scheme, configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(PdAccess.ClientPolicy, policy => policy.AddAuthenticationSchemes(PdAccess.Scheme).AddRequirements(new PdAccessRequirement(Admin: false)))
            .AddPolicy(PdAccess.AdminPolicy, policy => policy.AddAuthenticationSchemes(PdAccess.Scheme).AddRequirements(new PdAccessRequirement(Admin: true)))
            .AddPolicy(PdAccess.MetricsPolicy, policy => policy.AddAuthenticationSchemes(PdAccess.Scheme).AddRequirements(new PdMetricsRequirement()));
        services.Replace(ServiceDescriptor.Singleton<IAuthenticationSchemeProvider, PolicyOnlySchemeProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, PdAccessHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, PdMetricsAccessHandler>());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, PdAccessDeniedResponses>();
        return services;
    }
}
