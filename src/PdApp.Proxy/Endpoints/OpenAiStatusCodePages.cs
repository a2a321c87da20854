using Microsoft.AspNetCore.Diagnostics;
using PdApp.Protocol;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Gives the bodiless errors ASP.NET Core produces itself (no route: 404, wrong method: 405, and
/// any other 4xx/5xx an endpoint ends without a body) OpenAI's error shape, so every error a
/// client sees parses the same way. Responses that already have a body are left alone. Endpoints
/// marked <see cref="WritesOwnErrorsMetadata"/> (the completion routes) do not run the middleware.
/// </summary>
internal static class OpenAiStatusCodePages
{
    /// <summary>
    /// Adds the status-code pages middleware in a branch taken by every request except those whose
    /// endpoint writes its own errors: no endpoint (404), the 405 endpoint, and every other route.
    /// </summary>
    /// <param name="app">The application, after <c>UseRouting</c> (the branch reads the endpoint).</param>
    public static void UseWhereNeeded(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(IsNeeded, pages => pages.UseStatusCodePages(WriteAsync));
    }

    /// <summary>Whether the request's endpoint (none for a 404) may end without writing its error body.</summary>
    /// <param name="context">The request, after routing.</param>
    /// <returns>False only for endpoints marked <see cref="WritesOwnErrorsMetadata"/>.</returns>
    public static bool IsNeeded(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<WritesOwnErrorsMetadata>() is null;

    public static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var (type, message) = status switch
        {
            StatusCodes.Status404NotFound => (OpenAiErrorTypes.NotFound, $"Not found: {http.Request.Method} {http.Request.Path}."),
            StatusCodes.Status405MethodNotAllowed => (OpenAiErrorTypes.InvalidRequest, $"Method {http.Request.Method} is not allowed on {http.Request.Path}."),
            >= 500 => (OpenAiErrorTypes.Server, $"The proxy failed to serve request {http.GetRequestId()}."),
            _ => (OpenAiErrorTypes.InvalidRequest, $"The request was refused ({status})."),
        };
        return OpenAiErrorWriter.WriteAsync(http.Response, status, type, message, cancellationToken: http.RequestAborted);
    }
}
