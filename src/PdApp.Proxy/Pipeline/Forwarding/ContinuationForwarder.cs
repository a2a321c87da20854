using System.Buffers;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Relays a migrated stream's continuation into the client's response, which is already under way
/// (so not through YARP, which would send status and headers again): the continuation is sent over
/// the same upstream channel, under the same watchdog (header wait, then idle timeout per read) and
/// body guard as a first decode, and its events are rewritten by a
/// <see cref="ContinuationEventRewriter"/> and written to the client one read at a time, each
/// flushed. A failure of the continuation is recorded on the call's <see cref="DecodeCall.Progress"/>
/// like a first decode's, so the pipeline may move the request again.
/// </summary>
internal sealed class ContinuationForwarder(UpstreamChannel channel, UpstreamTimeouts timeouts, IOptions<DeploymentOptions> pdOptions)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Sends <paramref name="call"/> and relays its events after what the client already has.</summary>
    /// <param name="context">The client's request; its response has started.</param>
    /// <param name="call">The continuation's decode call (its <see cref="DecodeCall.Progress"/> set).</param>
    /// <param name="rewriter">Rewrites the continuation's events.</param>
    /// <param name="observer">The request's observer.</param>
    /// <param name="timeline">The move's timeline (sent, headers, first token), if kept.</param>
    /// <returns>How it ended: <see cref="DecodeOutcomeKind.Relayed"/> also when the stream failed mid-way (see the progress).</returns>
    public async Task<DecodeOutcome> ForwardAsync(
        HttpContext context, DecodeCall call, ContinuationEventRewriter rewriter, IRequestObserver observer, MigrationTimeline? timeline = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(rewriter);
        ArgumentNullException.ThrowIfNull(observer);
        var progress = call.Progress ?? throw new ArgumentException("A continuation records its progress.", nameof(call));
        var aborted = context.RequestAborted;

        using var watchdog = timeouts.StartDecode(stream: true);
        using var request = new HttpRequestMessage(HttpMethod.Post, call.Instance.AddressOf(OpenAiRoutes.PathOf(call.Route)))
        {
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = new ReadOnlyMemoryContent(call.Body) { Headers = { ContentType = Json } },
        };
        UpstreamHeaders.Apply(request, call.UpstreamRequestId, pdOptions.Value.UpstreamApiKey);
        request.Options.Set(UpstreamDeadlineHandler.WatchdogKey, watchdog);

        observer.DecodeStarted(call);
        timeline?.MarkDecodeSent();
        HttpResponseMessage response;
        try
        {
            response = await channel.Invoker.SendAsync(request, aborted);
            timeline?.MarkDecodeHeaders();
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            observer.DecodeEnded(ForwarderError.Request, aborted.IsCancellationRequested);
            return aborted.IsCancellationRequested
                ? new DecodeOutcome(DecodeOutcomeKind.Canceled, Detail: ex.Message)
                : new DecodeOutcome(DecodeOutcomeKind.FailedBeforeResponse, watchdog.Fired == DecodeDeadline.Headers, ex.Message);
        }

        using (response)
        {
            call.Responded = true;
            call.StatusCode = (int)response.StatusCode;
            call.KvTransferOutcome = DecodeTransformer.KvTransferOutcomeOf(response);

            if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != SseFormat.ContentType)
            {
                observer.DecodeResponded(response);
                observer.DecodeEnded(ForwarderError.None, aborted.IsCancellationRequested);
                return new DecodeOutcome(DecodeOutcomeKind.FailedBeforeResponse, Detail: $"The continuation was answered {call.StatusCode}.");
            }

            observer.DecodeResponded(response);
            response.Content = new WrappedStreamContent(
                response.Content,
                stream => new SseEventRelayStream(
                    new DecodeBodyGuardStream(stream, call, watchdog, timeouts, eventStream: true, observer: null, aborted), progress, rewriter, observer));
            var error = await CopyAsync(response.Content, context.Response.Body, timeline, aborted);
            observer.DecodeEnded(error, aborted.IsCancellationRequested);
            return error == ForwarderError.None
                ? new DecodeOutcome(DecodeOutcomeKind.Relayed)
                : new DecodeOutcome(aborted.IsCancellationRequested ? DecodeOutcomeKind.Canceled : DecodeOutcomeKind.FailedDuringResponse, Detail: error.ToString());
        }
    }

    private static async Task<ForwarderError> CopyAsync(HttpContent content, Stream client, MigrationTimeline? timeline, CancellationToken aborted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await using var source = await content.ReadAsStreamAsync(aborted);
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer, aborted);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or TimeoutException)
                {
                    return aborted.IsCancellationRequested ? ForwarderError.ResponseBodyCanceled : ForwarderError.ResponseBodyDestination;
                }

                if (read == 0)
                {
                    return ForwarderError.None;
                }

                try
                {
                    await client.WriteAsync(buffer.AsMemory(0, read), aborted);
                    await client.FlushAsync(aborted);
                    timeline?.MarkFirstTokenRelayed();
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    return ForwarderError.ResponseBodyClient;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
