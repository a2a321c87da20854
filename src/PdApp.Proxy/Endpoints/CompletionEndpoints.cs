using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Security;

namespace PdApp.Proxy.Endpoints;

/// <summary>Maps <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c> to <see cref="CompletionHandler"/>.</summary>
public static class CompletionEndpoints
{
    /// <summary>Maps both routes.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <returns>The builder.</returns>
    public static IEndpointRouteBuilder MapPdCompletions(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // Plain request delegates over the singleton handler, resolved from the root provider on first use:
        // a minimal-API parameter (CompletionHandler handler) would be bound from HttpContext.RequestServices,
        // which creates a DI scope per request and registers it for disposal, held for the whole stream
        // (~0.3 KB per stream, bench/RESULTS.md 4.20).
        var services = endpoints.ServiceProvider;
        CompletionHandler? handler = null;
        CompletionHandler Handler() => handler ??= services.GetRequiredService<CompletionHandler>();
        endpoints.MapPost(OpenAiRoutes.CompletionsPath, context => Handler().HandleAsync(context, OpenAiRoute.Completions))
            .WithMetadata(WritesOwnErrorsMetadata.Instance)
            .RequireClientAccess(services);
        endpoints.MapPost(OpenAiRoutes.ChatCompletionsPath, context => Handler().HandleAsync(context, OpenAiRoute.ChatCompletions))
            .WithMetadata(WritesOwnErrorsMetadata.Instance)
            .RequireClientAccess(services);
        return endpoints;
    }
}
