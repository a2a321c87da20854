using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Security;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// <c>GET /v1/models</c>: what a decode instance reports (it carries <c>max_model_len</c> and every
/// served name); when none answers, the configured <c>Pd:Model</c>; otherwise 503.
/// </summary>
public static class ModelsEndpoint
{
    private static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Maps the route.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <returns>The builder.</returns>
    public static IEndpointRouteBuilder MapPdModels(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(OpenAiRoutes.ModelsPath, HandleAsync).RequireClientAccess(endpoints.ServiceProvider);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context, IInstanceSelector selector, UpstreamChannel channel, IOptions<DeploymentOptions> options)
    {
        var pd = options.Value;
        using (var lease = selector.Select(PdRole.Decode, new RoutingContext(context.GetRequestId(), null)))
        {
            if (lease is not null)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                timeout.CancelAfter(UpstreamTimeout);
                using var request = new HttpRequestMessage(HttpMethod.Get, lease.Instance.AddressOf(OpenAiRoutes.ModelsPath));
                UpstreamHeaders.Apply(request, context.GetRequestId(), pd.UpstreamApiKey);
                try
                {
                    using var response = await channel.Invoker.SendAsync(request, timeout.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                        context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
                        await context.Response.Body.WriteAsync(body, context.RequestAborted);
                        return;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
                {
                    // Fall through to the configured model.
                }
            }
        }

        if (string.IsNullOrEmpty(pd.Model))
        {
            await OpenAiErrorWriter.WriteAsync(
                context.Response, StatusCodes.Status503ServiceUnavailable, OpenAiErrorTypes.ServiceUnavailable,
                "No decode instance answered and Pd:Model is not set.", cancellationToken: context.RequestAborted);
            return;
        }

        await context.Response.WriteAsJsonAsync(
            new ModelList([new ModelCard(pd.Model, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), pd.Model)]), context.RequestAborted);
    }

    private sealed record ModelList([property: JsonPropertyName("data")] IReadOnlyList<ModelCard> Data)
    {
        [JsonPropertyName("object")]
        public string Object => "list";
    }

    private sealed record ModelCard(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("created")] long Created,
        [property: JsonPropertyName("root")] string Root)
    {
        [JsonPropertyName("object")]
        public string Object => "model";

        [JsonPropertyName("owned_by")]
        public string OwnedBy => "vllm";
    }
}
