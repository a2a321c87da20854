using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace PdApp.Protocol;

/// <summary>Writes OpenAI-shaped errors as an HTTP response or as an in-band SSE event.</summary>
public static class OpenAiErrorWriter
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Builds the error body for <paramref name="statusCode"/>.</summary>
    /// <param name="statusCode">HTTP status, also used as <c>code</c> as vLLM does.</param>
    /// <param name="type">One of <see cref="OpenAiErrorTypes"/>.</param>
    /// <param name="message">Human-readable message.</param>
    /// <param name="param">The offending request field, if any.</param>
    /// <returns>The body.</returns>
    public static OpenAiErrorResponse Create(int statusCode, string type, string message, string? param = null) =>
        new(new OpenAiError(message, type, param, statusCode));

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
        return response.WriteAsJsonAsync(Create(statusCode, type, message, param), JsonOptions, cancellationToken);
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
        var json = JsonSerializer.SerializeToUtf8Bytes(Create(statusCode, type, message), JsonOptions);
        await response.Body.WriteAsync(SseFormat.DataPrefix, cancellationToken);
        await response.Body.WriteAsync(json, cancellationToken);
        await response.Body.WriteAsync(SseFormat.EventTerminator, cancellationToken);
        await response.Body.WriteAsync(SseFormat.DoneEvent, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
