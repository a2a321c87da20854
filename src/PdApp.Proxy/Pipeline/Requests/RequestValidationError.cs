using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>Why a request was refused before any instance saw it.</summary>
/// <param name="StatusCode">HTTP status (400, 404, 413).</param>
/// <param name="Type">One of <see cref="OpenAiErrorTypes"/>.</param>
/// <param name="Message">What is wrong, for the client.</param>
/// <param name="Param">The request field at fault, if any.</param>
public sealed record RequestValidationError(int StatusCode, string Type, string Message, string? Param = null)
{
    /// <summary>A 400 naming <paramref name="param"/>.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="param">The field.</param>
    /// <returns>The error.</returns>
    public static RequestValidationError Invalid(string message, string? param = null) =>
        new(StatusCodes.Status400BadRequest, OpenAiErrorTypes.InvalidRequest, message, param);

    /// <summary>Writes the error as the response.</summary>
    /// <param name="response">The response.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>A task.</returns>
    public Task WriteAsync(HttpResponse response, CancellationToken cancellationToken) =>
        OpenAiErrorWriter.WriteAsync(response, StatusCode, Type, Message, Param, cancellationToken);
}
