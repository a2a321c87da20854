using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdApp.Protocol;

/// <summary>
/// OpenAI's error body <c>{"error":{"message","type","param","code"}}</c>, which newer vLLM
/// servers return too. Older vLLM returns the same fields flat with <c>"object":"error"</c>.
/// </summary>
/// <param name="Error">The error.</param>
public sealed record OpenAiErrorResponse([property: JsonPropertyName("error")] OpenAiError Error)
{
    /// <summary>The serializer settings of the body (web defaults, as ASP.NET Core writes JSON).</summary>
    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Builds the error body for <paramref name="statusCode"/>.</summary>
    /// <param name="statusCode">HTTP status, also used as <c>code</c> as vLLM does.</param>
    /// <param name="type">One of <see cref="OpenAiErrorTypes"/>.</param>
    /// <param name="message">Human-readable message.</param>
    /// <param name="param">The offending request field, if any.</param>
    /// <returns>The body.</returns>
    public static OpenAiErrorResponse Create(int statusCode, string type, string message, string? param = null) =>
        new(new OpenAiError(message, type, param, statusCode));

    /// <summary>The body as UTF-8 JSON.</summary>
    /// <returns>The JSON bytes.</returns>
    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, SerializerOptions);
}

/// <summary>The inner error object.</summary>
/// <param name="Message">What went wrong, for humans.</param>
/// <param name="Type">Error class, one of <see cref="OpenAiErrorTypes"/>.</param>
/// <param name="Param">The request field at fault, when there is one.</param>
/// <param name="Code">Machine-readable code (vLLM puts the HTTP status here).</param>
public sealed record OpenAiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] int? Code);

/// <summary>The <c>type</c> values used by OpenAI and vLLM.</summary>
public static class OpenAiErrorTypes
{
    /// <summary>400: malformed or invalid request (vLLM: <c>BadRequestError</c>).</summary>
    public const string InvalidRequest = "invalid_request_error";

    /// <summary>401: missing or wrong API key.</summary>
    public const string Authentication = "authentication_error";

    /// <summary>404: unknown model or route (vLLM: <c>NotFoundError</c>).</summary>
    public const string NotFound = "not_found_error";

    /// <summary>413: request body too large.</summary>
    public const string RequestTooLarge = "request_too_large";

    /// <summary>429: queue full or rate limited.</summary>
    public const string RateLimit = "rate_limit_exceeded";

    /// <summary>500: unexpected server failure.</summary>
    public const string Server = "server_error";

    /// <summary>503/502/504: no healthy instance, upstream down or timed out.</summary>
    public const string ServiceUnavailable = "service_unavailable";
}
