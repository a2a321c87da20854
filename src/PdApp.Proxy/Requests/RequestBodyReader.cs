using Microsoft.AspNetCore.Http.Features;
using PdApp.Protocol;

namespace PdApp.Proxy.Requests;

/// <summary>Reads a request body whole, refusing bodies over the configured limit with 413.</summary>
public static class RequestBodyReader
{
    /// <summary>Reads the body of <paramref name="request"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="limit">The largest accepted body, in bytes.</param>
    /// <param name="cancellationToken">Cancellation (the client's).</param>
    /// <returns>The body, or the 413 error.</returns>
    public static async Task<(ReadOnlyMemory<byte> Body, RequestValidationError? Error)> ReadAsync(
        HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (default, TooLarge(limit));
        }

        // Kestrel enforces its own limit (30 MB by default) while reading; align it with ours.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var capacity = request.ContentLength is { } length ? (int)length : 16 * 1024;
        // Not disposed: its buffer becomes the body (MemoryStream holds no unmanaged resources).
        var buffer = new MemoryStream(capacity);
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return (default, TooLarge(limit));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, TooLarge(limit));
        }

        return (buffer.GetBuffer().AsMemory(0, (int)buffer.Length), null);
    }

    private static RequestValidationError TooLarge(long limit) => new(
        StatusCodes.Status413PayloadTooLarge,
        OpenAiErrorTypes.RequestTooLarge,
        $"The request body exceeds the proxy's limit of {limit} bytes (Pd:Proxy:MaxRequestBodyBytes).");
}
