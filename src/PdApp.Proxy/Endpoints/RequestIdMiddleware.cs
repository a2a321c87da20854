using PdApp.Protocol;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Accepts the client's <c>X-Request-Id</c> (1-128 visible ASCII characters) or makes one, returns
/// it on the response, and opens a logging scope with it while a logger provider reads scopes
/// (<see cref="RequestLogScopes"/>; the proxy's own log lines about a request name its id in the
/// message either way). The id is forwarded to both instances.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next, RequestLogScopes scopes, ILogger<RequestIdMiddleware> logger)
{
    private const int MaxLength = 128;

    public Task InvokeAsync(HttpContext context)
    {
        var requestId = Accept(context.Request.Headers[PdHeaders.RequestId].ToString()) ?? Guid.NewGuid().ToString("N");
        context.Features.Set(new RequestIdFeature(requestId));
        context.Response.Headers[PdHeaders.RequestId] = requestId;
        return scopes.AreRead ? InvokeInScopeAsync(context, requestId) : next(context);
    }

    private async Task InvokeInScopeAsync(HttpContext context, string requestId)
    {
        using (logger.BeginScope(new RequestIdLogScope(requestId)))
        {
            await next(context);
        }
    }

    private static string? Accept(string value)
    {
        if (value.Length is 0 or > MaxLength)
        {
            return null;
        }

        foreach (var c in value)
        {
            if (c is < '!' or > '~')
            {
                return null;
            }
        }

        return value;
    }
}

/// <summary>The request id of the current request.</summary>
/// <param name="RequestId">The id.</param>
public sealed record RequestIdFeature(string RequestId);

/// <summary>Reads the request id.</summary>
public static class RequestIdHttpContextExtensions
{
    /// <summary>The request id the middleware assigned (a fresh one if it did not run).</summary>
    /// <param name="context">The request.</param>
    /// <returns>The id.</returns>
    public static string GetRequestId(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<RequestIdFeature>()?.RequestId ?? context.TraceIdentifier;
    }
}
