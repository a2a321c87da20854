using PdApp.Protocol;

// In ASP.NET Core's namespace, as the ServiceDefaults template puts its extensions where their
// callers already look: every endpoint that has an HttpResponse can write an OpenAI error.
namespace Microsoft.AspNetCore.Http;

/// <summary>
/// Writes OpenAI-shaped errors (<see cref="OpenAiErrorResponse"/>, owned by PdApp.Protocol) as an
/// HTTP response or as an in-band SSE event.
/// </summary>
public static class OpenAiErrorWriter
{
    /// <summary>Builds the error body for <paramref name="statusCode"/>.</summary>
    /// <param name="statusCode">HTTP status, also used as <c>code</c> as vLLM does.</param>
    /// <param name="type">One of <see cref="OpenAiErrorTypes"/>.</param>
    /// <param name="message">Human-readable message.</param>
    /// <param name="param">The offending request field, if any.</param>
    /// <returns>The body.</returns>
    public static OpenAiErrorResponse Create(int statusCode, string type, string message, string? param = null) =>
        OpenAiErrorResponse.Create(statusCode, type, message, param);

    /// <summary>Writes the error as the whole response (status, JSON body).</summary>
    /// <param name="response">The response, which must not have started.</param>
    /// <param name="statusCode">HTTP status.</param>
    /// <param name="type">One of <see cref="OpenAiErrorTypes"/>.</param>
    /// <param name="message">Human-readable message.</param>
    /// <param name="param">The offending request field, if any.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task that completes when the body is written.</returns>
    public static Task WriteAsync(
        HttpResponse response,
        int statusCode,
        string type,
        string message,
        string? param = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = statusCode;
        return response.WriteAsJsonAsync(Create(statusCode, type, message, param), OpenAiErrorResponse.SerializerOptions, cancellationToken);
    }

    /// <summary>
    /// Writes the error as an SSE event followed by <c>data: [DONE]</c>, for failures after a
    /// stream has started (the status line is already sent, as vLLM does in-band).
    /// </summary>
    /// <param name="response">The streaming response.</param>
    /// <param name="statusCode">The status the error would have had.</param>
    /// <param name="type">One of <see cref="OpenAiErrorTypes"/>.</param>
    /// <param name="message">Human-readable message.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task that completes when the events are flushed.</returns>
    public static async Task WriteSseAsync(
        HttpResponse response,
        int statusCode,
        string type,
        string message,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        var json = Create(statusCode, type, message).ToUtf8Json();
        await response.Body.WriteAsync(SseFormat.DataPrefix, cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync(SseFormat.EventTerminator, cancellationToken);
        await response.Body.WriteAsync(SseFormat.DoneEvent, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
