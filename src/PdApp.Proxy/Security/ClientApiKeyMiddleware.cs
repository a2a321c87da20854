using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Options;

namespace PdApp.Proxy.Security;

/// <summary>
/// When <c>Pd:ApiKey</c> is set, requires <c>Authorization: Bearer &lt;key&gt;</c> on <c>/v1</c>
/// routes, as vLLM's <c>--api-key</c> does (health and metrics stay open for probes). The key
/// clients send is the proxy's own; instances get <c>Pd:UpstreamApiKey</c> instead.
/// </summary>
internal sealed class ClientApiKeyMiddleware(RequestDelegate next, IOptions<PdOptions> options)
{
    private readonly byte[]? _expected = string.IsNullOrEmpty(options.Value.ApiKey) ? null : Encoding.UTF8.GetBytes(options.Value.ApiKey);

    public Task InvokeAsync(HttpContext context)
    {
        if (_expected is null || !context.Request.Path.StartsWithSegments("/v1") || IsAuthorized(context.Request))
        {
            return next(context);
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        return OpenAiErrorWriter.WriteAsync(
            context.Response,
            StatusCodes.Status401Unauthorized,
            OpenAiErrorTypes.Authentication,
            "Missing or invalid API key: send Authorization: Bearer <key>.",
            cancellationToken: context.RequestAborted);
    }

    private bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var presented = Encoding.UTF8.GetBytes(header.AsSpan(Scheme.Length).Trim().ToString());
        return CryptographicOperations.FixedTimeEquals(presented, _expected);
    }
}
