using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using PdApp.Protocol;

namespace PdApp.Proxy.Admin;

/// <summary>
/// Guards every admin route: 404 while no <c>Pd:AdminApiKey</c> is configured (the API does not
/// exist), 401 unless the request carries <c>Authorization: Bearer {key}</c>. Keys are compared
/// as SHA-256 digests in constant time, so neither content nor length leaks through timing.
/// </summary>
internal sealed class AdminApiKeyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    private const string BearerPrefix = "Bearer ";

    private readonly byte[]? _expectedDigest = string.IsNullOrEmpty(options.Value.ApiKey)
        ? null
        : SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ApiKey));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (_expectedDigest is null)
        {
            await OpenAiErrorWriter.WriteAsync(
                http.Response,
                StatusCodes.Status404NotFound,
                OpenAiErrorTypes.NotFound,
                $"Not found: the admin API is disabled until {PdProxySettings.AdminApiKey} is configured.",
                cancellationToken: http.RequestAborted);
            return null;
        }

        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header[BearerPrefix.Length..].Trim())), _expectedDigest))
        {
            http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            await OpenAiErrorWriter.WriteAsync(
                http.Response,
                StatusCodes.Status401Unauthorized,
                OpenAiErrorTypes.Authentication,
                string.IsNullOrEmpty(header)
                    ? "Missing admin API key: send Authorization: Bearer <Pd:AdminApiKey>."
                    : "Invalid admin API key.",
                cancellationToken: http.RequestAborted);
            return null;
        }

        return await next(context);
    }
}
