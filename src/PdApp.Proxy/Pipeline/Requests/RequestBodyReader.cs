using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Requests;

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

        try
        {
            return request.ContentLength is { } length
                ? (await ReadKnownLengthAsync(request.Body, (int)length, cancellationToken), null)
                : await ReadChunkedAsync(request.Body, limit, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, TooLarge(limit));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Kestrel's minimum data rate: the client's slowness, not the proxy's failure.
            return (default, TooSlow("The request body arrived slower than the minimum data rate (Pd:Proxy:RequestBody:MinBytesPerSecond)."));
        }
        catch (BadHttpRequestException ex)
        {
            // A body shorter than its Content-Length, a malformed chunk: the client's fault.
            return (default, RequestValidationError.Invalid($"The request body could not be read: {ex.Message}"));
        }
    }

    /// <summary>A 408 for a body that did not arrive in time.</summary>
    /// <param name="message">What was too slow.</param>
    /// <returns>The error.</returns>
    public static RequestValidationError TooSlow(string message) =>
        new(StatusCodes.Status408RequestTimeout, OpenAiErrorTypes.InvalidRequest, message);

    // Content-Length known (the usual case): one exact buffer, no copies.
    private static async Task<ReadOnlyMemory<byte>> ReadKnownLengthAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        var filled = 0;
        int read;
        while (filled < length && (read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        // Kestrel fails a body shorter than its Content-Length; this is only a safety net.
        return buffer.AsMemory(0, filled);
    }

    private static async Task<(ReadOnlyMemory<byte> Body, RequestValidationError? Error)> ReadChunkedAsync(
        Stream body, long limit, CancellationToken cancellationToken)
    {
        // Not disposed: its buffer becomes the body (MemoryStream holds no unmanaged resources).
        var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return (default, TooLarge(limit));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return (buffer.GetBuffer().AsMemory(0, (int)buffer.Length), null);
    }

    private static RequestValidationError TooLarge(long limit) => new(
        StatusCodes.Status413PayloadTooLarge,
        OpenAiErrorTypes.RequestTooLarge,
        $"The request body exceeds the proxy's limit of {limit} bytes (Pd:Proxy:MaxRequestBodyBytes).");
}
