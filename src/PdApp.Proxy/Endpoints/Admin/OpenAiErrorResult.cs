using Microsoft.AspNetCore.Http;
using PdApp.Protocol;

namespace PdApp.Proxy.Endpoints.Admin;

/// <summary>An <see cref="IResult"/> writing an OpenAI-shaped error.</summary>
internal sealed class OpenAiErrorResult(int statusCode, string type, string message, string? param = null) : IResult
{
    public int StatusCode => statusCode;

    public Task ExecuteAsync(HttpContext httpContext) =>
        OpenAiErrorWriter.WriteAsync(httpContext.Response, statusCode, type, message, param, httpContext.RequestAborted);

    public static OpenAiErrorResult BadRequest(string message, string? param) =>
        new(StatusCodes.Status400BadRequest, OpenAiErrorTypes.InvalidRequest, message, param);

    public static OpenAiErrorResult UnknownInstance(string name) =>
        new(StatusCodes.Status404NotFound, OpenAiErrorTypes.NotFound, $"Instance '{name}' does not exist.", "name");
}
