using Microsoft.AspNetCore.Http.Extensions;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Requests;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Shapes the decode relay: D's path, the upstream key and request id instead of the client's;
/// on the way back, the proxy's own headers, the client's request id, and an SSE guard that turns
/// a broken or silent stream into OpenAI's in-band error event and shows each read to the observer
/// (one wrapper around D's body, not one per concern). The relay's watchdog travels with
/// the request (its header deadline) and guards the body (its idle deadline).
/// </summary>
internal sealed class DecodeTransformer(DecodeCall call, string? upstreamApiKey, DecodeWatchdog watchdog, UpstreamTimeouts timeouts, IRequestObserver observer) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        UpstreamHeaders.RemoveDisallowed(proxyRequest);
        UpstreamHeaders.Apply(proxyRequest, call.UpstreamRequestId, upstreamApiKey);
        proxyRequest.Options.Set(UpstreamDeadlineHandler.WatchdogKey, watchdog);
        proxyRequest.Options.Set(UpstreamDeadlineHandler.OutageKey, call.Instance.OutageToken);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(
            destinationPrefix, OpenAiRoutes.PathOf(call.Route), httpContext.Request.QueryString);
    }

    public override async ValueTask<bool> TransformResponseAsync(
        HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is null)
        {
            return copyBody;
        }

        call.Responded = true;
        call.StatusCode = (int)proxyResponse.StatusCode;
        if (proxyResponse.Headers.TryGetValues(PdHeaders.SimulatorKvTransfer, out var outcome))
        {
            call.KvTransferOutcome = outcome.FirstOrDefault();
        }

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
        var progress = eventStream ? call.Progress : null;
        proxyResponse.Content = new WrappedStreamContent(
            proxyResponse.Content,
            stream => progress is null
                ? new DecodeBodyGuardStream(stream, call, watchdog, timeouts, eventStream, observer, httpContext.RequestAborted)
                : new SseEventRelayStream(
                    new DecodeBodyGuardStream(stream, call, watchdog, timeouts, eventStream, observer: null, httpContext.RequestAborted), progress, observer: observer));

        observer.DecodeResponded(proxyResponse);
        return copyBody;
    }
}
