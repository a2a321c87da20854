using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Net.Http.Headers;
using PdApp.Protocol;

namespace PdApp.Proxy.Security;

/// <summary>
/// Writes the proxy's refusals in OpenAI's error shape (ASP.NET's default is an empty 401/403):
/// 401 with <c>WWW-Authenticate: Bearer</c> for a missing or wrong key, and 404 for the admin API
/// while no admin key is configured (the API does not exist). Admin refusals are logged.
/// </summary>
internal sealed partial class PdAccessDeniedResponses(ApiKeys keys, ILoggerFactory loggers) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();
    private readonly ILogger _adminLogger = loggers.CreateLogger(PdAccess.AdminAuditLogCategory);

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (!authorizeResult.Succeeded && policy.Requirements.OfType<PdMetricsRequirement>().Any())
        {
            return RefuseClientAsync(context);
        }

        var requirement = policy.Requirements.OfType<PdAccessRequirement>().FirstOrDefault();
        if (authorizeResult.Succeeded || requirement is null)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        return requirement.Admin ? RefuseAdminAsync(context) : RefuseClientAsync(context);
    }

    private static Task RefuseClientAsync(HttpContext context)
    {
        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        return OpenAiErrorWriter.WriteAsync(
            context.Response,
            StatusCodes.Status401Unauthorized,
            OpenAiErrorTypes.Authentication,
            "Missing or invalid API key: send Authorization: Bearer <key>.",
            cancellationToken: context.RequestAborted);
    }

    private Task RefuseAdminAsync(HttpContext context)
    {
        if (keys.Admin is null)
        {
            return OpenAiErrorWriter.WriteAsync(
                context.Response,
                StatusCodes.Status404NotFound,
                OpenAiErrorTypes.NotFound,
                $"Not found: the admin API is disabled until {PdProxySettings.AdminApiKey} is configured.",
                cancellationToken: context.RequestAborted);
        }

        var request = context.Request;
        var missing = string.IsNullOrEmpty(request.Headers.Authorization.ToString());
        LogRejected(_adminLogger, request.Method, request.Path, context.Connection.RemoteIpAddress?.ToString(), missing ? "no key" : "wrong key");
        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        return OpenAiErrorWriter.WriteAsync(
            context.Response,
            StatusCodes.Status401Unauthorized,
            OpenAiErrorTypes.Authentication,
            missing ? $"Missing admin API key: send Authorization: Bearer <{PdProxySettings.AdminApiKey}>." : "Invalid admin API key.",
            cancellationToken: context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin API: rejected {Method} {Path} from {RemoteAddress}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string method, string path, string? remoteAddress, string reason);
}
