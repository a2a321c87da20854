using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using PdApp.Protocol;

namespace PdApp.Proxy.Admin;

/// <summary>
/// Guards every admin route: 404 while no <c>Pd:AdminApiKey</c> is configured (the API does not
/// exist), 401 unless the request carries <c>Authorization: Bearer {key}</c>. Keys are compared
/// as SHA-256 digests in constant time, so neither content nor length leaks through timing.
/// </summary>
internal sealed class AdminApiKeyFilter(IOptions<AdminOptions> options, ILoggerFactory loggers) : IEndpointFilter
{
    private const string BearerPrefix = "Bearer ";

    private readonly ILogger _logger = loggers.CreateLogger(AdminLog.Category);

    private readonly byte[]? _expectedDigest = string.IsNullOrEmpty(options.Value.ApiKey)
        ? null
        : SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ApiKey));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (_expectedDigest is null)
        {
            return new OpenAiErrorResult(
                StatusCodes.Status404NotFound,
                OpenAiErrorTypes.NotFound,
                $"Not found: the admin API is disabled until {PdProxySettings.AdminApiKey} is configured.");
        }

        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(header[BearerPrefix.Length..].Trim())), _expectedDigest))
        {
            http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            AdminLog.Rejected(_logger, http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress?.ToString(), string.IsNullOrEmpty(header) ? "no key" : "wrong key");
            return new OpenAiErrorResult(
                StatusCodes.Status401Unauthorized,
                OpenAiErrorTypes.Authentication,
                string.IsNullOrEmpty(header)
                    ? $"Missing admin API key: send Authorization: Bearer <{PdProxySettings.AdminApiKey}>."
                    : "Invalid admin API key.");
        }

        return await next(context);
    }
}
