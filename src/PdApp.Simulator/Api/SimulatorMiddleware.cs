using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Faults;

namespace PdApp.Simulator.Api;

/// <summary>Cross-cutting HTTP behaviour: identity headers, API key, engine availability.</summary>
internal static class SimulatorMiddleware
{
    /// <summary>Adds the middleware in order.</summary>
    public static IApplicationBuilder UseSimulatorMiddleware(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<SimulatorOptions>();
        var identity = app.ApplicationServices.GetRequiredService<InstanceIdentity>();
        var health = app.ApplicationServices.GetRequiredService<HealthState>();

        app.UseMiddleware<UnhandledErrorMiddleware>();

        // Every response names its instance and echoes X-Request-Id, so a proxy's caller sees which
        // engine served it (vLLM echoes the id only with --enable-request-id-headers).
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers[PdHeaders.SimulatorInstance] = identity.Name;
            if (context.Request.Headers.TryGetValue(PdHeaders.RequestId, out var requestId))
            {
                headers[PdHeaders.RequestId] = requestId;
            }

            return next(context);
        });

        // vLLM's --api-key guards /v1 only; /health and /metrics stay open.
        if (options.ApiKey is { } apiKey)
        {
            var expected = "Bearer " + apiKey;
            app.Use((context, next) =>
                !context.Request.Path.StartsWithSegments("/v1") || context.Request.Headers.Authorization.ToString() == expected
                    ? next(context)
                    : OpenAiErrorWriter.WriteAsync(context.Response, StatusCodes.Status401Unauthorized, OpenAiErrorTypes.Authentication, "Unauthorized", cancellationToken: context.RequestAborted));
        }

        // While the model "loads" (slow start) or after the engine "died", completions fail as vLLM's would.
        app.Use((context, next) =>
            !context.Request.Path.StartsWithSegments("/v1") || health.IsHealthy
                ? next(context)
                : OpenAiErrorWriter.WriteAsync(
                    context.Response,
                    StatusCodes.Status503ServiceUnavailable,
                    OpenAiErrorTypes.ServiceUnavailable,
                    $"The engine is not ready: {health.Describe()}.",
                    cancellationToken: context.RequestAborted));
        return app;
    }
}
