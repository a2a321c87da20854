using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Sends the prefill request and reads P's whole (small) response, with one timer: first bounded by
/// the wait for P's response headers, then by what is left of the total (both from
/// <see cref="UpstreamTimeouts"/>); the client's disconnect cancels it at once.
/// </summary>
public sealed class PrefillClient(
    UpstreamChannel channel,
    UpstreamTimeouts timeouts,
    IOptions<ProxyOptions> proxyOptions,
    IOptions<DeploymentOptions> pdOptions,
    IOptions<AdminInstanceOptions>? adminOptions = null)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Calls <paramref name="instance"/>.</summary>
    /// <param name="instance">The prefill instance.</param>
    /// <param name="route">The route (same path upstream).</param>
    /// <param name="body">The prefill body.</param>
    /// <param name="upstreamRequestId">The <c>X-Request-Id</c> to send.</param>
    /// <param name="cancellationToken">The client's cancellation.</param>
    /// <param name="clientHeaders">The client's request headers; only the allowed ones are sent.</param>
    /// <returns>The outcome; never throws for upstream failures.</returns>
    public async Task<PrefillAttempt> SendAsync(
        UpstreamInstance instance, OpenAiRoute route, byte[] body, string upstreamRequestId, CancellationToken cancellationToken, IHeaderDictionary? clientHeaders = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var options = proxyOptions.Value;
        var started = Stopwatch.GetTimestamp();
        var outage = instance.OutageToken;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, outage);
        var firstByte = timeouts.PrefillFirstByte < timeouts.PrefillTotal;
        timeout.CancelAfter(timeouts.PrefillFirstByte);

        using var request = new HttpRequestMessage(HttpMethod.Post, instance.AddressOf(OpenAiRoutes.PathOf(route)))
        {
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        UpstreamHeaders.CopyAllowed(clientHeaders, request);
        UpstreamHeaders.Apply(
            request, upstreamRequestId, UpstreamKeyPolicy.KeyFor(instance, pdOptions.Value.UpstreamApiKey, adminOptions?.Value.SendUpstreamKey == true));

        try
        {
            using var response = await channel.Invoker.SendAsync(request, timeout.Token);
            if (firstByte)
            {
                // Headers are in: the rest of the total bounds the body. TryReset fails only once fired.
                firstByte = false;
                if (timeout.TryReset())
                {
                    timeout.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (timeouts.PrefillTotal - Stopwatch.GetElapsedTime(started)).Ticks)));
                }
            }

            var status = (int)response.StatusCode;
            var contentType = response.Content.Headers.ContentType?.ToString();
            var limit = options.Disaggregation.MaxPrefillResponseBytes;
            if (response.Content.Headers.ContentLength > limit)
            {
                return Failed(PrefillAttemptKind.TransportError, $"prefill response larger than {limit} bytes", status);
            }

            var responseBody = await ReadLimitedAsync(response.Content, limit, timeout.Token);
            if (responseBody is null)
            {
                return Failed(PrefillAttemptKind.TransportError, $"prefill response larger than {limit} bytes", status);
            }

            // 429 is about the instance (overloaded), not the request: another P may take it.
            var kind = status switch
            {
                >= 200 and < 300 => PrefillAttemptKind.Succeeded,
                >= 500 or StatusCodes.Status429TooManyRequests => PrefillAttemptKind.UpstreamError,
                _ => PrefillAttemptKind.Rejected,
            };
            return new PrefillAttempt(kind, status, responseBody, contentType, kind == PrefillAttemptKind.Succeeded ? null : $"prefill answered {status}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Failed(PrefillAttemptKind.Canceled, "client disconnected");
        }
        catch (OperationCanceledException) when (outage.IsCancellationRequested)
        {
            // Health checking took the instance out while we waited: another P may take the request now.
            return Failed(PrefillAttemptKind.TransportError, $"instance {instance.Name} was taken out of service (health check)");
        }
        catch (OperationCanceledException ex) when (ex.InnerException is TimeoutException && !timeout.IsCancellationRequested)
        {
            // SocketsHttpHandler's ConnectTimeout.
            return Failed(PrefillAttemptKind.TimedOut, timeouts.ConnectTimedOut("prefill"));
        }
        catch (OperationCanceledException)
        {
            return Failed(PrefillAttemptKind.TimedOut, firstByte ? timeouts.PrefillFirstByteTimedOut() : timeouts.PrefillTotalTimedOut());
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return Failed(PrefillAttemptKind.TransportError, UpstreamFailureText.Describe(ex));
        }
    }

    private static PrefillAttempt Failed(PrefillAttemptKind kind, string detail, int status = 0) =>
        new(kind, status, ReadOnlyMemory<byte>.Empty, null, detail);

    private static async Task<byte[]?> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        if (content.Headers.ContentLength is { } length and <= int.MaxValue)
        {
            // The usual case (vLLM and the simulator send a length): read into the exact array.
            var exact = new byte[length];
            await stream.ReadExactlyAsync(exact, cancellationToken);
            return exact;
        }

        // Chunked: grow a rented buffer, copy once at the end.
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        var used = 0;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(used), cancellationToken)) > 0)
            {
                used += read;
                if (used > limit)
                {
                    return null;
                }

                if (used == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, used).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            return buffer.AsSpan(0, used).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
