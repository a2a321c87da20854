using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Routing.Options;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Relays the decode request through YARP's <see cref="IHttpForwarder"/>: D's status, headers and
/// body (JSON or SSE) reach the client as D sends them, chunk by chunk, never buffered.
/// </summary>
public sealed class DecodeForwarder(
    IHttpForwarder forwarder,
    UpstreamChannel channel,
    UpstreamTimeouts timeouts,
    IOptions<DeploymentOptions> pdOptions,
    IOptions<AdminInstanceOptions>? adminOptions = null,
    ShutdownDeadline? shutdown = null)
{
    private readonly ContinuationForwarder _continuations = new(channel, timeouts, pdOptions);

    /// <summary>
    /// Relays a migrated request's continuation after what the client already received (its
    /// response has started, so not through YARP); see <see cref="ContinuationForwarder"/>.
    /// </summary>
    /// <param name="context">The client's request.</param>
    /// <param name="call">The continuation (its <see cref="DecodeCall.Progress"/> set).</param>
    /// <param name="rewriter">Rewrites its events into the client's stream.</param>
    /// <param name="observer">The request's observer.</param>
    /// <param name="timeline">The move's timeline (sent, headers, first token), if kept.</param>
    /// <returns>How it ended.</returns>
    public Task<DecodeOutcome> ForwardContinuationAsync(
        HttpContext context, DecodeCall call, ContinuationEventRewriter rewriter, IRequestObserver observer, MigrationTimeline? timeline = null) =>
        _continuations.ForwardAsync(context, call, rewriter, observer, timeline);

    /// <summary>Relays <paramref name="call"/> as the response to <paramref name="context"/>.</summary>
    /// <param name="context">The client's request; its response must not have started.</param>
    /// <param name="call">The decode call.</param>
    /// <param name="observer">The request's observer.</param>
    /// <returns>How it ended.</returns>
    public async Task<DecodeOutcome> ForwardAsync(HttpContext context, DecodeCall call, IRequestObserver observer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(observer);

        // YARP streams the request body from HttpContext.Request; replacing the body there (not
        // the outgoing HttpContent) is its supported way to send a different body.
        context.Request.Body = AsStream(call.Body);
        context.Request.ContentLength = call.Body.Length;
        context.Request.ContentType = "application/json";
        context.Features.Set<IForwarderErrorFeature>(null);

        using var watchdog = timeouts.StartDecode(call.Stream);
        using var shutdownRegistration = shutdown is null ? default : watchdog.FollowShutdown(shutdown.Token);
        var transformer = new DecodeTransformer(
            call, UpstreamKeyPolicy.KeyFor(call.Instance, pdOptions.Value.UpstreamApiKey, adminOptions?.Value.SendUpstreamKey == true), watchdog, timeouts, observer);
        observer.DecodeStarted(call);
        var error = await forwarder.SendAsync(
            context, call.Instance.DestinationPrefix, channel.Invoker, UpstreamChannel.DecodeConfig, transformer);
        observer.DecodeEnded(error, context.RequestAborted.IsCancellationRequested);

        if (error == ForwarderError.None)
        {
            return new DecodeOutcome(DecodeOutcomeKind.Relayed);
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        var detail = $"{error}: {exception?.Message}";
        if (context.RequestAborted.IsCancellationRequested)
        {
            return new DecodeOutcome(DecodeOutcomeKind.Canceled, Detail: detail);
        }

        if (context.Response.HasStarted)
        {
            return new DecodeOutcome(DecodeOutcomeKind.FailedDuringResponse, Detail: detail);
        }

        // YARP set a bare 502/504; the pipeline writes the OpenAI-shaped error (or retries).
        // Clear drops every header, the client's request id too: put it back.
        context.Response.Clear();
        context.Response.Headers[PdHeaders.RequestId] = call.RequestId;
        if (exception is InstanceOutageException || exception?.InnerException is InstanceOutageException)
        {
            // D was found down before it answered: as good as unreachable (moved where the KV allows).
            return new DecodeOutcome(
                DecodeOutcomeKind.ConnectFailed, Detail: detail, Message: $"The decode instance {call.Instance.Name} was taken out of service before it answered.");
        }

        if (watchdog.Fired == DecodeDeadline.Shutdown)
        {
            return new DecodeOutcome(DecodeOutcomeKind.FailedBeforeResponse, TimedOut: false, detail, ShutdownDeadline.Message);
        }

        if (watchdog.Fired == DecodeDeadline.Headers)
        {
            return new DecodeOutcome(DecodeOutcomeKind.FailedBeforeResponse, TimedOut: true, detail, timeouts.DecodeHeadersTimedOut(call.Stream));
        }

        if (IsConnectTimeout(exception))
        {
            return new DecodeOutcome(DecodeOutcomeKind.ConnectFailed, TimedOut: true, detail, timeouts.ConnectTimedOut("decode"));
        }

        if (error == ForwarderError.Request && IsConnectFailure(exception))
        {
            return new DecodeOutcome(DecodeOutcomeKind.ConnectFailed, Detail: detail, Message: Unreachable);
        }

        // D took the request and then failed (a non-streaming D dies mid-generation): not "unreachable".
        return new DecodeOutcome(
            DecodeOutcomeKind.FailedBeforeResponse,
            error == ForwarderError.RequestTimedOut,
            detail,
            $"The decode instance {call.Instance.Name} failed before answering: {(exception is null ? error.ToString() : UpstreamFailureText.Describe(exception))}.");
    }

    private const string Unreachable = "The decode instance could not be reached.";

    // SocketsHttpHandler reports its ConnectTimeout as a cancellation caused by a TimeoutException.
    private static bool IsConnectTimeout(Exception? exception) =>
        exception is OperationCanceledException { InnerException: TimeoutException };

    private static bool IsConnectFailure(Exception? exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
        || exception?.InnerException is SocketException;

    private static MemoryStream AsStream(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);
}
