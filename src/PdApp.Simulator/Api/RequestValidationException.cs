using Microsoft.AspNetCore.Http;
using PdApp.Protocol;

namespace PdApp.Simulator.Api;

/// <summary>A request vLLM would refuse; carries the status, error type and parameter for the OpenAI error body.</summary>
internal sealed class RequestValidationException(
    string message,
    string? param = null,
    int statusCode = StatusCodes.Status400BadRequest,
    string type = OpenAiErrorTypes.InvalidRequest) : Exception(message)
{
    /// <summary>The request field at fault.</summary>
    public string? Param { get; } = param;

    /// <summary>HTTP status.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>OpenAI error type.</summary>
    public string Type { get; } = type;
}
