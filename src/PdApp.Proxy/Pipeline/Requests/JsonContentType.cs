using Microsoft.Net.Http.Headers;

namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>
/// Which request <c>Content-Type</c> a completion body may have. vLLM (FastAPI) parses the body as
/// JSON when the type is absent, <c>application/json</c> or <c>application/*+json</c>, and answers
/// 400 for anything else (<c>text/plain</c>, form data): the proxy does the same instead of
/// forwarding the bytes to D relabelled as JSON.
/// </summary>
public static class JsonContentType
{
    /// <summary>Whether <paramref name="contentType"/> is acceptable.</summary>
    /// <param name="contentType">The request's <c>Content-Type</c>, or null.</param>
    /// <returns>True for none or a JSON type.</returns>
    public static bool IsAcceptable(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return false;
        }

        return media.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
            && (media.SubType.Equals("json", StringComparison.OrdinalIgnoreCase)
                || media.SubType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The 400 for an unacceptable type.</summary>
    /// <param name="contentType">The type sent.</param>
    /// <returns>The error.</returns>
    public static RequestValidationError Refusal(string contentType) =>
        RequestValidationError.Invalid($"The request body must be JSON (Content-Type: application/json), not {contentType}.");
}
