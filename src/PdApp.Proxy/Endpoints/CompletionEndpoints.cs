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
        endpoints.MapPost(OpenAiRoutes.CompletionsPath, (HttpContext context, CompletionHandler handler) => handler.HandleAsync(context, OpenAiRoute.Completions))
            .RequireClientAccess(endpoints.ServiceProvider);
        endpoints.MapPost(OpenAiRoutes.ChatCompletionsPath, (HttpContext context, CompletionHandler handler) => handler.HandleAsync(context, OpenAiRoute.ChatCompletions))
            .RequireClientAccess(endpoints.ServiceProvider);
        return endpoints;
    }
}
