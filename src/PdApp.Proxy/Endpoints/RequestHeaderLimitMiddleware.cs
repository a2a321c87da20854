using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Refuses requests whose headers exceed <c>Pd:Proxy:MaxRequestHeadersTotalBytes</c> or
/// <c>Pd:Proxy:MaxRequestHeaderCount</c> with 431 and an OpenAI error carrying the request id. Kestrel's own
/// 431 is written before any middleware runs and has no body, so Kestrel's limits are set to twice these
/// (<see cref="ConfigureKestrel"/>) and the real limit is enforced here. Sizes count each header as HTTP/1.1
/// sends it (<c>name: value\r\n</c>), as Kestrel does.
/// </summary>
internal sealed class RequestHeaderLimitMiddleware(RequestDelegate next, IOptions<ProxyOptions> options)
{
    private readonly int _maxBytes = options.Value.MaxRequestHeadersTotalBytes;
    private readonly int _maxCount = options.Value.MaxRequestHeaderCount;

    /// <summary>Sets Kestrel's header limits to twice the proxy's, so requests between the two reach this middleware.</summary>
    /// <param name="kestrel">Kestrel's options.</param>
    /// <param name="proxy">The proxy's options.</param>
    public static void ConfigureKestrel(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, ProxyOptions proxy)
    {
        kestrel.Limits.MaxRequestHeadersTotalSize = proxy.MaxRequestHeadersTotalBytes * 2;
        kestrel.Limits.MaxRequestHeaderCount = proxy.MaxRequestHeaderCount * 2;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var count = 0;
        long bytes = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                count++;
                bytes += name.Length + (value?.Length ?? 0) + 4;
            }
        }

        if (count <= _maxCount && bytes <= _maxBytes)
        {
            return next(context);
        }

        // The connection may hold more of an oversized request; do not reuse it.
        context.Response.Headers.Connection = "close";
        var message = count > _maxCount
            ? $"The request has {count} headers; at most {_maxCount} are accepted (Pd:Proxy:MaxRequestHeaderCount)."
            : $"The request's headers are {bytes} bytes; at most {_maxBytes} are accepted (Pd:Proxy:MaxRequestHeadersTotalBytes).";
        return OpenAiErrorWriter.WriteAsync(
            context.Response, StatusCodes.Status431RequestHeaderFieldsTooLarge, OpenAiErrorTypes.InvalidRequest, message, cancellationToken: context.RequestAborted);
    }
}
