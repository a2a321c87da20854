using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using PdApp.Proxy.Endpoints;
using PdApp.Proxy.Memory;
using PdApp.Proxy.Security;
using PdApp.ServiceDefaults.Metrics;

namespace PdApp.Proxy;

/// <summary>
/// Builds the PD proxy: an OpenAI-compatible front (<c>/v1/completions</c>,
/// <c>/v1/chat/completions</c>, <c>/v1/models</c>) that prefills on one instance and relays the
/// decode from another, replacing vLLM's example Python proxies.
/// </summary>
public static class ProxyApp
{
    /// <summary>Creates the application from command-line style arguments (configuration as <c>--Pd:Connector=...</c>).</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The application, not started.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">A setting is invalid (the message names it).</exception>
    public static WebApplication Create(string[] args)
    {
        // The slim builder leaves out what the proxy does not use and every process would map: IIS
        // integration, HTTP/3 over QUIC, regex route constraints, the debug logger (bench/RESULTS.md 4.16).
        // What users configure keeps working: the same configuration sources (appsettings, environment,
        // command line), logging (console with its formatter, from Logging:*; EventSource for dotnet-trace
        // and dotnet-monitor), HTTPS endpoints and certificates from Kestrel:*, HTTP/3 where an endpoint
        // asks for it, AllowedHosts.
        var builder = WebApplication.CreateSlimBuilder(args);
        ProxyHostDefaults.Apply(builder);
        builder.AddServiceDefaults([.. ObservabilityServiceCollectionExtensions.MeterNames]);
        builder.Services.AddPdProxy(builder.Configuration);
        builder.Services.AddPdRouting(builder.Configuration);
        builder.Services.AddPdObservability(builder.Configuration);
        builder.Services.AddPdSecurity(builder.Configuration);
        builder.Services.AddPdMemory(builder.Configuration);

        // Our own limit (Pd:Proxy:MaxRequestBodyBytes) is applied per request, with an OpenAI 413.
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = null);

        // Kestrel answers oversized headers with a bare 431 before any middleware: it gets twice our limits,
        // which RequestHeaderLimitMiddleware enforces with an OpenAI error and the request id.
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<PdApp.Proxy.Pipeline.Options.ProxyOptions>>(
                (kestrel, proxy) => RequestHeaderLimitMiddleware.ConfigureKestrel(kestrel, proxy.Value));

        // Off unless Pd:Proxy:InlineSocketScheduling asks (ProxyOptions documents why).
        builder.Services.AddOptions<SocketTransportOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<PdApp.Proxy.Pipeline.Options.ProxyOptions>>(
                (sockets, proxy) => sockets.UnsafePreferInlineScheduling = proxy.Value.InlineSocketScheduling);

        var app = builder.Build();
        ProxyHostDefaults.UseHostFiltering(app);
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<RequestHeaderLimitMiddleware>();

        // After the request id (refusals carry it too), before the endpoints that name a policy.
        app.UseRouting();

        // Bodiless 404/405 (no route, wrong method) and other bare errors get OpenAI's shape; after routing,
        // so the completion routes, which write every error themselves, skip it (bench/RESULTS.md 4.20).
        OpenAiStatusCodePages.UseWhereNeeded(app);

        // Only endpoints that name a policy (admin, /metrics with keys, /v1 with a client key) run
        // authentication and authorization; open ones (/v1 without a key, health probes) skip both
        // middlewares, their per-request state, the request's DI scope and the authorization middleware's
        // mark in HttpContext.Items (bench/RESULTS.md 4.16).
        ProxyHostDefaults.UseAuthorizationWhereNamed(app);
        app.MapDefaultEndpoints(mapPrometheus: false);

        // /metrics names every instance: behind a key once keys are configured (Pd:MetricsAccess).
        app.MapPrometheusMetrics(HealthEndpoints.MetricsPath).RequireAuthorization(PdAccess.MetricsPolicy);
        app.MapPdCompletions();
        app.MapPdModels();
        app.MapPdAdmin();
        return app;
    }
}
