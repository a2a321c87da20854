using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Net.Http.Headers;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Requests;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Shapes the decode relay: D's path, the upstream key and request id instead of the client's;
/// on the way back, the proxy's own headers, the client's request id, and a body guard that turns
/// a broken or silent stream into OpenAI's in-band error event. An event stream that may migrate is
/// also framed by the <see cref="SseEventRelayStream"/>, which shows each event to the observer; any
/// other body is shown to it read by read by the guard (either way the bytes are scanned once). The
/// relay's watchdog travels with the request (its header deadline) and guards the body (its idle deadline).
/// </summary>
internal sealed class DecodeTransformer(DecodeCall call, string? upstreamApiKey, DecodeWatchdog watchdog, UpstreamTimeouts timeouts, IRequestObserver observer) : HttpTransformer
{
    private bool _eventStream;
    private CancellationToken _clientAborted;

    public override ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        // Not YARP's copy of every client header followed by removing all but a few: only the allowed
        // ones are copied, and the body (the proxy's own, DecodeForwarder put it on the request) is
        // described by its type and length alone.
        var request = httpContext.Request;
        if (proxyRequest.Content is { } content)
        {
            content.Headers.ContentLength = request.ContentLength;
            content.Headers.TryAddWithoutValidation(HeaderNames.ContentType, request.ContentType);
        }

        UpstreamHeaders.CopyAllowed(request.Headers, proxyRequest);
        UpstreamHeaders.Apply(proxyRequest, call.UpstreamRequestId, upstreamApiKey);
        proxyRequest.Options.Set(UpstreamDeadlineHandler.WatchdogKey, watchdog);
        proxyRequest.Options.Set(UpstreamDeadlineHandler.OutageKey, call.Instance.OutageToken);
        var query = httpContext.Request.QueryString;
        proxyRequest.RequestUri = query.HasValue
            ? RequestUtilities.MakeDestinationAddress(destinationPrefix, OpenAiRoutes.PathOf(call.Route), query)
            : call.Instance.AddressOf(OpenAiRoutes.PathOf(call.Route));
        return ValueTask.CompletedTask;
    }

    public override ValueTask<bool> TransformResponseAsync(
        HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        // YARP's header copy completes synchronously: no state machine unless it ever does not.
        var copied = base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        return copied.IsCompletedSuccessfully
            ? new ValueTask<bool>(ShapeResponse(httpContext, proxyResponse, copied.Result))
            : ShapeResponseAsync(copied, httpContext, proxyResponse);
    }

    private async ValueTask<bool> ShapeResponseAsync(ValueTask<bool> copied, HttpContext httpContext, HttpResponseMessage? proxyResponse) =>
        ShapeResponse(httpContext, proxyResponse, await copied);

    private bool ShapeResponse(HttpContext httpContext, HttpResponseMessage? proxyResponse, bool copyBody)
    {
        if (proxyResponse is null)
        {
            return copyBody;
        }

        call.Responded = true;
        call.StatusCode = (int)proxyResponse.StatusCode;
        call.KvTransferOutcome = KvTransferOutcomeOf(proxyResponse);

        var headers = httpContext.Response.Headers;
        headers[PdHeaders.RequestId] = call.RequestId;
        headers[PdHeaders.ProxyDecodeInstance] = call.Instance.Name;
        if (call.PrefillInstance is not null)
        {
            headers[PdHeaders.ProxyPrefillInstance] = call.PrefillInstance.Name;
        }

        // Every body is read under the idle deadline; only a successful event stream can end with an in-band error.
        var eventStream = proxyResponse.IsSuccessStatusCode
            && proxyResponse.Content.Headers.ContentType?.MediaType == SseFormat.ContentType;
        _eventStream = eventStream;
        _clientAborted = httpContext.RequestAborted;
        observer.DecodeResponded(proxyResponse);
        proxyResponse.Content = new WrappedStreamContent(proxyResponse.Content, WrapBody);
        return copyBody;
    }

    /// <summary>The simulator's <c>X-PdSim-Kv-Transfer</c> answer (read without validating or copying the header).</summary>
    /// <param name="response">D's response.</param>
    /// <returns>Its value, or null.</returns>
    internal static string? KvTransferOutcomeOf(HttpResponseMessage response)
    {
        if (response.Headers.NonValidated.TryGetValues(PdHeaders.SimulatorKvTransfer, out var values))
        {
            foreach (var value in values)
            {
                return value;
            }
        }

        return null;
    }

    // An event stream that may migrate is framed by the event relay (which shows its events to the
    // observer); any other body is only guarded (and shown to the observer read by read).
    private Stream WrapBody(Stream body) => _eventStream && call.Progress is { } progress
        ? new SseEventRelayStream(new DecodeBodyGuardStream(body, call, watchdog, timeouts, eventStream: true, observer: null, _clientAborted), progress, observer: observer)
        : new DecodeBodyGuardStream(body, call, watchdog, timeouts, _eventStream, observer, _clientAborted);
}
