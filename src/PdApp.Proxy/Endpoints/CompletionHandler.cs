using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Memory;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Admission;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Serves one completion or chat request: admission, body limit, validation, then the PD flow;
/// one log line and one metric per request, whatever happened.
/// </summary>
public sealed class CompletionHandler(
    AdmissionController admission,
    PdRequestPipeline pipeline,
    RequestBodyGate bodyGate,
    IProxyObserver observability,
    IOptions<ProxyOptions> proxyOptions,
    IOptions<DeploymentOptions> pdOptions,
    IOptions<BalancingOptions> balancing,
    InFlightRequests inFlight,
    ILogger<CompletionHandler> logger)
{
    // 499 (nginx's "client closed request") marks clients that left before a response was sent.
    private const int ClientClosedRequest = 499;

    /// <summary>Serves the request.</summary>
    /// <param name="context">The request.</param>
    /// <param name="route">The route it arrived on.</param>
    /// <returns>A task that completes when the response is finished.</returns>
    public async Task HandleAsync(HttpContext context, OpenAiRoute route)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var inFlightScope = inFlight.Enter();
        var requestId = context.GetRequestId();
        var exchange = new PdExchange();
        var started = Stopwatch.GetTimestamp();
        var observer = observability.StartRequest(context, route, requestId);
        try
        {
            await ServeAsync(context, route, requestId, exchange, observer);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; every upstream call was cancelled with it.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            // A bug, not an upstream failure (those are handled as values): still answer in OpenAI's shape.
            ProxyLog.UnexpectedFailure(logger, ex, requestId);
            context.Response.Clear();
            context.Response.Headers[PdHeaders.RequestId] = requestId;
            await OpenAiErrorWriter.WriteAsync(
                context.Response,
                StatusCodes.Status500InternalServerError,
                OpenAiErrorTypes.Server,
                $"The proxy failed to serve request {requestId}.",
                cancellationToken: context.RequestAborted);
        }
        finally
        {
            // A stream cut after its 200 (dead decode, drain deadline) counts as the error it ended with.
            var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted
                ? ClientClosedRequest
                : exchange.FailedStatus ?? context.Response.StatusCode;
            var elapsed = Stopwatch.GetElapsedTime(started);
            observer.RequestCompleted(status, exchange);
            ProxyLog.RequestCompleted(
                logger, requestId, OpenAiRoutes.PathOf(route), status, elapsed.TotalMilliseconds, exchange.ModeName, exchange.PrefillInstance, exchange.DecodeInstance, exchange.KvTransfer);
        }
    }

    private async Task ServeAsync(HttpContext context, OpenAiRoute route, string requestId, PdExchange exchange, IRequestObserver observer)
    {
        if (!JsonContentType.IsAcceptable(context.Request.ContentType))
        {
            await JsonContentType.Refusal(context.Request.ContentType!).WriteAsync(context.Response, context.RequestAborted);
            return;
        }

        // The body first, under its own slots and deadlines: a slow upload must not hold an admission slot.
        var (body, unread, busy) = await bodyGate.ReadAsync(context.Request, context.RequestAborted);
        if (busy)
        {
            await RejectAsync(context, requestId, AdmissionResult.Rejected(AdmissionRejection.QueueFull, TimeSpan.FromSeconds(proxyOptions.Value.Admission.RetryAfterSeconds)));
            return;
        }

        if (unread is not null)
        {
            ProxyLog.BodyRefused(logger, requestId, unread.StatusCode, unread.Message);
            await unread.WriteAsync(context.Response, context.RequestAborted);
            return;
        }

        var servedModel = pdOptions.Value.Model;
        if (!CompletionRequestParser.TryParse(route, body, string.IsNullOrEmpty(servedModel) ? null : servedModel, out var request, out var invalid, balancing.Value.AffinityKeyLength))
        {
            await invalid!.WriteAsync(context.Response, context.RequestAborted);
            return;
        }

        using (request)
        {
            observer.AdmissionStarted();
            using var admitted = await admission.AdmitAsync(context.RequestAborted);
            observer.AdmissionEnded(admitted);
            if (!admitted.IsAdmitted)
            {
                await RejectAsync(context, requestId, admitted);
                return;
            }

            await pipeline.RunAsync(context, request!, requestId, exchange, observer);
        }
    }

    private Task RejectAsync(HttpContext context, string requestId, AdmissionResult admitted)
    {
        ProxyLog.AdmissionRejected(logger, requestId, admitted.Reason);
        var seconds = Math.Max(1, (int)Math.Ceiling(admitted.RetryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return OpenAiErrorWriter.WriteAsync(
            context.Response,
            StatusCodes.Status429TooManyRequests,
            OpenAiErrorTypes.RateLimit,
            admitted.Rejection == AdmissionRejection.RateLimited
                ? "Rate limit exceeded; retry later."
                : "The proxy's request queue is full; retry later.",
            cancellationToken: context.RequestAborted);
    }
}
