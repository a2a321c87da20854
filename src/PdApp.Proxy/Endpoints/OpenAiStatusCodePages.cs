using Microsoft.AspNetCore.Diagnostics;
using PdApp.Protocol;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Gives the bodiless errors ASP.NET Core produces itself (no route: 404, wrong method: 405, and
/// any other 4xx/5xx an endpoint ends without a body) OpenAI's error shape, so every error a
/// client sees parses the same way. Responses that already have a body are left alone.
/// </summary>
internal static class OpenAiStatusCodePages
{
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
