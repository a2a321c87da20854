using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Logging.Console;

namespace PdApp.Proxy;

/// <summary>
/// What <see cref="WebApplication.CreateBuilder(string[])"/> offers that users of the proxy can see,
/// added back to the slim builder <see cref="ProxyApp"/> uses, each only where it is configured
/// (so its code is not loaded otherwise).
/// </summary>
internal static class ProxyHostDefaults
{
    /// <summary>The host-filtering setting of the full builder (<c>AllowedHosts</c>, hosts separated by <c>;</c>).</summary>
    public const string AllowedHostsKey = "AllowedHosts";

    /// <summary>The console logger's settings (<c>FormatterName</c>, <c>FormatterOptions</c>, ...).</summary>
    public const string ConsoleLoggingSection = "Logging:Console";

    // The application properties by which WebApplicationBuilder tells that the app added the
    // authentication and authorization middlewares itself (ASP.NET Core 8+).
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";
    private const string AuthorizationMiddlewareSetKey = "__AuthorizationMiddlewareSet";

    /// <summary>Adds HTTPS endpoint configuration, the EventSource logger, HTTP/3 where asked for and host filtering where set.</summary>
    /// <param name="builder">The slim builder.</param>
    public static void Apply(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Kestrel:Endpoints:*:Url=https://..., Kestrel:Certificates:Default, Kestrel:EndpointDefaults.
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Logging.AddEventSourceLogger();

        // The slim builder's console logger fixes its formatter to "simple"; the full builder's reads
        // Logging:Console:FormatterName (json, systemd), so bind that section again, after it.
        builder.Services.Configure<ConsoleLoggerOptions>(builder.Configuration.GetSection(ConsoleLoggingSection));
        if (AsksForHttp3(builder.Configuration))
        {
            UseQuic(builder);
        }

        if (HasHostFilter(builder.Configuration))
        {
            AddHostFiltering(builder);
        }
    }

    /// <summary>Adds the host-filtering middleware when <c>AllowedHosts</c> names hosts (not <c>*</c>), as the full builder does.</summary>
    /// <param name="app">The application.</param>
    public static void UseHostFiltering(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (HasHostFilter(app.Configuration))
        {
            app.UseHostFiltering();
        }
    }

    /// <summary>
    /// Adds authentication and authorization in a branch taken only by requests whose endpoint
    /// names a policy (<see cref="NamesAuthorizationPolicy"/>).
    /// </summary>
    /// <param name="app">The application, after <c>UseRouting</c>.</param>
    public static void UseAuthorizationWhereNamed(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(NamesAuthorizationPolicy, secured =>
        {
            secured.UseAuthentication();
            secured.UseAuthorization();
        });

        // A branch's builder copies the application's properties on write, so the marks the two
        // middlewares leave there do not reach the application: without them WebApplication would
        // add both again, unconditionally, at the start of the pipeline (it does so for any app that
        // registers authentication and does not call them itself).
        var properties = ((IApplicationBuilder)app).Properties;
        properties[AuthenticationMiddlewareSetKey] = true;
        properties[AuthorizationMiddlewareSetKey] = true;
    }

    /// <summary>
    /// Whether the request's endpoint carries authorization metadata: only then do the
    /// authentication and authorization middlewares have anything to do (no default scheme and no
    /// fallback policy are configured, so a request to an open endpoint, or to none, passes them
    /// unchanged). The endpoint middleware refuses an endpoint with such metadata that the
    /// authorization middleware did not see, so this must name every kind it checks.
    /// </summary>
    /// <param name="context">The request, after routing.</param>
    /// <returns>True when the endpoint names a policy or requirement.</returns>
    public static bool NamesAuthorizationPolicy(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        return metadata is not null
            && (metadata.GetMetadata<IAuthorizeData>() is not null
                || metadata.GetMetadata<AuthorizationPolicy>() is not null
                || metadata.GetMetadata<IAuthorizationRequirementData>() is not null);
    }

    private static bool AsksForHttp3(IConfiguration configuration)
    {
        foreach (var (key, value) in configuration.GetSection("Kestrel").AsEnumerable())
        {
            if (key.EndsWith(":Protocols", StringComparison.OrdinalIgnoreCase)
                && value?.Contains("Http3", StringComparison.OrdinalIgnoreCase) == true)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasHostFilter(IConfiguration configuration) =>
        configuration[AllowedHostsKey] is { Length: > 0 } hosts && hosts.Trim() != "*";

    // Methods of their own, not inlined: compiling a method loads the assemblies its calls name.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void UseQuic(WebApplicationBuilder builder) => builder.WebHost.UseQuic();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddHostFiltering(WebApplicationBuilder builder) =>
        builder.Services.AddHostFiltering(options =>
        {
            options.AllowedHosts = [.. builder.Configuration[AllowedHostsKey]!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        });
}
