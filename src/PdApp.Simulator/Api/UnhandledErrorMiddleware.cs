using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;

namespace PdApp.Simulator.Api;

/// <summary>
/// Turns an unexpected exception into vLLM's 500 body (or an in-band SSE error once a stream has
/// started), so clients always get an OpenAI-shaped error, never an empty 500.
/// </summary>
internal sealed partial class UnhandledErrorMiddleware(RequestDelegate next, ILogger<UnhandledErrorMiddleware> logger)
{
    /// <summary>Runs the rest of the pipeline.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            LogUnhandled(ex, context.Request.Path);
            if (!context.Response.HasStarted)
            {
                await OpenAiErrorWriter.WriteAsync(context.Response, StatusCodes.Status500InternalServerError, OpenAiErrorTypes.Server, ex.Message, cancellationToken: context.RequestAborted);
            }
            else if (context.Response.ContentType?.StartsWith(SseFormat.ContentType, StringComparison.Ordinal) == true)
            {
                await OpenAiErrorWriter.WriteSseAsync(context.Response, StatusCodes.Status500InternalServerError, OpenAiErrorTypes.Server, ex.Message, context.RequestAborted);
            }
            else
            {
                context.Abort();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private partial void LogUnhandled(Exception exception, string path);
}
