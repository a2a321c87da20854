using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Faults;
using PdApp.Simulator.Metrics;

namespace PdApp.Simulator.Api;

/// <summary>The non-completion routes of vLLM's api_server: models, health, version, ping, metrics.</summary>
internal static class InfoEndpoints
{
    /// <summary>The version <c>/version</c> reports: the vLLM release whose API the simulator follows.</summary>
    public const string VllmVersion = "0.11.0";

    /// <summary>Maps the routes.</summary>
    public static IEndpointRouteBuilder MapInfoEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/models", (SimulatorOptions options, TimeProvider time) =>
        {
            var created = time.GetUtcNow().ToUnixTimeSeconds();
            var names = options.ServedModelNames.Count > 0 ? options.ServedModelNames : [options.Model];
            return Results.Json(new
            {
                @object = "list",
                data = names.Select(name => new Dictionary<string, object?>
                {
                    ["id"] = name,
                    ["object"] = "model",
                    ["created"] = created,
                    ["owned_by"] = "vllm",
                    ["root"] = options.Model,
                    ["parent"] = null,
                    ["max_model_len"] = options.MaxModelLen,
                    ["permission"] = Array.Empty<object>(),
                }),
            });
        });

        // vLLM answers 200 with an empty body, 503 once the engine is dead.
        routes.MapGet("/health", (HealthState health) =>
            health.IsHealthy ? Results.Ok() : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        routes.MapMethods("/ping", ["GET", "POST"], (HealthState health) =>
            health.IsHealthy ? Results.Ok() : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        routes.MapGet("/version", () => Results.Json(new { version = VllmVersion }));
        routes.MapGet("/metrics", (SimulatorMetrics metrics) =>
            Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));

        // Simulator-only: flip health at run time (an engine that dies and recovers).
        routes.MapPost("/pdsim/health", (HealthState health, bool healthy) =>
        {
            health.SetUnhealthy(!healthy);
            return Results.Json(new { healthy = health.IsHealthy, state = health.Describe() });
        });
        return routes;
    }
}
