using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Health;

namespace PdApp.Proxy.Pipeline;

/// <summary>The error responses of the PD flow, all before any byte of a 200 was sent.</summary>
internal static class UpstreamErrorResponses
{
    /// <summary>503 naming why no <paramref name="role"/> instance can serve (drained, unhealthy, ejected).</summary>
    public static Task NoInstanceAsync(HttpContext context, PdRole role, IInstanceRegistry registry, TimeProvider time) =>
        OpenAiErrorWriter.WriteAsync(
            context.Response,
            StatusCodes.Status503ServiceUnavailable,
            OpenAiErrorTypes.ServiceUnavailable,
            InstanceUnavailability.Describe(role, registry.GetInstances(role), time.GetUtcNow()),
            cancellationToken: context.RequestAborted);

    public static Task GatewayAsync(HttpContext context, bool timedOut, string message) =>
        OpenAiErrorWriter.WriteAsync(
            context.Response,
            timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
            OpenAiErrorTypes.ServiceUnavailable,
            message,
            cancellationToken: context.RequestAborted);

    /// <summary>An instance's own error response, passed through with its status and body.</summary>
    public static async Task PassThroughAsync(HttpContext context, PrefillAttempt attempt)
    {
        if (attempt.Body.IsEmpty)
        {
            await OpenAiErrorWriter.WriteAsync(
                context.Response,
                attempt.StatusCode,
                attempt.StatusCode >= 500 ? OpenAiErrorTypes.ServiceUnavailable : OpenAiErrorTypes.InvalidRequest,
                $"The prefill instance answered {attempt.StatusCode}.",
                cancellationToken: context.RequestAborted);
            return;
        }

        context.Response.StatusCode = attempt.StatusCode;
        context.Response.ContentType = attempt.ContentType ?? "application/json";
        context.Response.ContentLength = attempt.Body.Length;
        await context.Response.Body.WriteAsync(attempt.Body, context.RequestAborted);
    }
}
