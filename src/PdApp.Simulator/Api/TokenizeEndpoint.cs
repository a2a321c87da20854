using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PdApp.Protocol;
using PdApp.Simulator.Configuration;

namespace PdApp.Simulator.Api;

/// <summary>
/// <c>POST /tokenize</c> as vLLM serves it (serving_tokenization.py): a prompt or chat messages in,
/// <c>{"count", "max_model_len", "tokens", "token_strs"}</c> out, counted exactly as completions count them.
/// </summary>
internal static class TokenizeEndpoint
{
    /// <summary>Maps the route.</summary>
    public static IEndpointRouteBuilder MapTokenizeEndpoint(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/tokenize", async (HttpContext context, CompletionRequestParser parser, SimulatorOptions options) =>
        {
            try
            {
                JsonNode? body;
                try
                {
                    body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                }
                catch (JsonException ex)
                {
                    throw new RequestValidationException($"JSON decode error: {ex.Message}");
                }

                var kind = body is JsonObject json && json.ContainsKey("messages") ? CompletionKind.Chat : CompletionKind.Text;
                var request = parser.Parse(body, kind);
                return Results.Json(new Dictionary<string, object?>
                {
                    ["count"] = request.PromptTokenIds.Length,
                    ["max_model_len"] = options.MaxModelLen,
                    ["tokens"] = request.PromptTokenIds,
                    ["token_strs"] = null,
                });
            }
            catch (RequestValidationException ex)
            {
                return Results.Json(OpenAiErrorWriter.Create(ex.StatusCode, ex.Type, ex.Message, ex.Param), statusCode: ex.StatusCode);
            }
        });
        return routes;
    }
}
