using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Pipeline;

/// <summary>
/// Runs one validated request through prefill and decode: choose P (retrying once on another P),
/// fall back to decode only where allowed, then relay D's response. Every error before D answers
/// is a real HTTP error (no 200 is sent before D's status is known); the client's disconnect
/// cancels whichever upstream call is in flight.
/// </summary>
public sealed partial class PdRequestPipeline(
    DisaggregationFlow flow,
    IInstanceSelector selector,
    PrefillClient prefillClient,
    DecodeForwarder decodeForwarder,
    IOptions<ProxyOptions> options,
    IOptions<ReadinessOptions> readiness,
    IInstanceRegistry registry,
    TimeProvider time,
    ILogger<PdRequestPipeline> logger,
    KvCacheRouting? kvCache = null,
    ILogger<MigrationTimeline>? timingLogger = null)
{
    /// <summary>Serves <paramref name="request"/> as the response to <paramref name="context"/>.</summary>
    /// <param name="context">The client's request.</param>
    /// <param name="request">The validated request.</param>
    /// <param name="requestId">The client-facing request id.</param>
    /// <param name="exchange">Receives what happened, for the log line.</param>
    /// <param name="observer">The request's observer, told of each event once.</param>
    /// <returns>A task that completes when the response is finished.</returns>
    public async Task RunAsync(HttpContext context, CompletionRequest request, string requestId, PdExchange exchange, IRequestObserver observer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(observer);
        var migration = new MigrationState(
            options.Value.Migration.MaxAttempts,
            MigrationEligibility.RefusalFor(request)
                ?? MigrationEligibility.SizeRefusalFor(request, options.Value.Migration.MaxNonStreamingTokens)
                ?? ConnectorRefusal()
                ?? NowhereToMove(),
            MigrationEligibility.IsReproducible(request));
        observer.RequestParsed(request);

        var decision = await DecideAsync(request, new RoutingContext(requestId, request.AffinityKey), context.RequestAborted);
        var run = new Run(context, request, requestId, decision.Routing, exchange, observer, migration);
        if (decision.DecodeAlone)
        {
            observer.PrefillSkipped();
            exchange.Mode = PdMode.PrefillSkipped;
            await DecodeAloneAsync(run);
            return;
        }

        // P2pNccl names D in the prefill request, so D is chosen (and held) first.
        var routing = run.Routing;
        using var earlyDecode = flow.SelectsDecodeBeforePrefill ? selector.Select(PdRole.Decode, routing) : null;
        if (flow.SelectsDecodeBeforePrefill && earlyDecode is null)
        {
            await UpstreamErrorResponses.NoInstanceAsync(context, PdRole.Decode, registry, time);
            return;
        }

        var prefill = await PrefillAsync(run, earlyDecode?.Instance);
        using var handoff = prefill.Handoff;
        var attempt = prefill.Attempt;
        if (attempt is null || attempt.IsRetryable)
        {
            if (readiness.Value.DecodeOnlyFallback && flow.Capabilities.DecodeCanPrefillAlone)
            {
                var reason = attempt is null ? "no_prefill_instance" : "prefill_failed";
                observer.DecodeOnlyFallback(reason);
                ProxyLog.DecodeOnly(logger, requestId, reason);
                exchange.Mode = PdMode.DecodeOnlyFallback;
                await DecodeAloneAsync(run);
            }
            else if (attempt is null)
            {
                await UpstreamErrorResponses.NoInstanceAsync(context, PdRole.Prefill, registry, time);
            }
            else if (attempt.Kind == PrefillAttemptKind.UpstreamError)
            {
                await UpstreamErrorResponses.PassThroughAsync(context, attempt);
            }
            else
            {
                await UpstreamErrorResponses.GatewayAsync(
                    context, attempt.Kind == PrefillAttemptKind.TimedOut, $"Prefill on instance {prefill.Instance?.Name} failed: {attempt.Detail}");
            }

            return;
        }

        switch (attempt.Kind)
        {
            case PrefillAttemptKind.Canceled:
                return;
            case PrefillAttemptKind.Rejected:
                // P judged the request itself (400 too long, 404 model, ...): D would say the same.
                await UpstreamErrorResponses.PassThroughAsync(context, attempt);
                return;
        }

        exchange.Mode = PdMode.Disaggregated;
        var prefillInstance = prefill.Instance!;
        if (context.RequestAborted.IsCancellationRequested)
        {
            CountCancelledAfterPrefill(run, prefillInstance);
            return;
        }

        using var lateDecode = earlyDecode is null ? selector.Select(PdRole.Decode, routing) : null;
        var decodeInstance = (earlyDecode ?? lateDecode)?.Instance;
        if (decodeInstance is null)
        {
            await UpstreamErrorResponses.NoInstanceAsync(context, PdRole.Decode, registry, time);
            return;
        }

        if (await WaitForKvAsync(run, handoff, decodeInstance) is null)
        {
            CountCancelledAfterPrefill(run, prefillInstance);
            return;
        }

        var body = flow.CreateDecodeBody(request, attempt.ToResponse(), prefillInstance, decodeInstance);
        observer.KvTransferExpected();
        migration.RememberPrefill(attempt.Body);
        var call = new DecodeCall(decodeInstance, request.Route, body.Body, requestId, prefill.UpstreamRequestId, prefillInstance, request.Stream)
        {
            Progress = migration.Progress,
        };
        var relayed = await RelayAsync(run, call, (earlyDecode ?? lateDecode)!);
        if (relayed.Kind == DecodeOutcomeKind.Canceled && !relayed.Call.Responded)
        {
            CountCancelledAfterPrefill(run, prefillInstance);
        }

        CountTransfer(run, relayed.Call, body.PrefillConfirmedTransfer);
    }

    /// <summary>
    /// The PD decision, one for a client's request and for a migrated request's continuation alike:
    /// the prompt's KV block keys (KV-aware routing, <c>Routing/KvCache</c>), then whether D computes
    /// the prompt alone: a decode instance's prefix cache holds all but fewer than
    /// <c>SkipPrefillBelowUncachedTokens</c> of it (the cache-aware decision; only that instance stays
    /// eligible), or the prompt is estimated under <c>SkipPrefillBelowTokens</c>. Otherwise P prefills.
    /// </summary>
    private async Task<PdDecision> DecideAsync(CompletionRequest request, RoutingContext routing, CancellationToken cancellationToken)
    {
        var disaggregation = options.Value.Disaggregation;
        if (kvCache is not null && kvCache.IsActive(disaggregation.SkipPrefillBelowUncachedTokens))
        {
            routing = await kvCache.PrepareAsync(routing, request.Document.RootElement, request.Route == OpenAiRoute.ChatCompletions, time.GetUtcNow(), cancellationToken);
            if (flow.CanSkipPrefill
                && kvCache.TrySkipPrefill(
                    routing, disaggregation.SkipPrefillBelowUncachedTokens, disaggregation.SkipPrefillMaxDecodeBacklogTokens, time.GetUtcNow(), out var holderOnly))
            {
                return new PdDecision(holderOnly, DecodeAlone: true);
            }
        }

        var belowEstimate = disaggregation.SkipPrefillBelowTokens > 0
            && request.EstimatedPromptTokens < disaggregation.SkipPrefillBelowTokens
            && flow.CanSkipPrefill;
        return new PdDecision(routing, belowEstimate);
    }

    private async Task<PrefillStage> PrefillAsync(Run run, UpstreamInstance? decode)
    {
        var (context, request, requestId, routing, exchange, observer, _) = run;
        HashSet<UpstreamInstance>? failed = null;
        PrefillAttempt? last = null;
        UpstreamInstance? lastInstance = null;
        var upstreamRequestId = requestId;
        var handoff = KvHandoff.None;

        // One try, and one retry on another instance: P computed nothing the client saw yet.
        for (var round = 0; round < 2; round++)
        {
            using var lease = selector.Select(PdRole.Prefill, failed is null ? routing : routing with { Exclude = failed });
            if (lease is null)
            {
                break;
            }

            if (last is not null)
            {
                observer.PrefillRetried(last.Kind);
            }

            var instance = lease.Instance;
            exchange.PrefillInstance = instance.Name;
            if (decode is not null && flow.ValidatePair(instance, decode) is { } problem)
            {
                last = new PrefillAttempt(PrefillAttemptKind.TransportError, 0, ReadOnlyMemory<byte>.Empty, null, problem);
            }
            else
            {
                upstreamRequestId = flow.CreateUpstreamRequestId(requestId, instance, decode);

                // A fresh hand-off per attempt: a notification for the failed one must not release this one.
                handoff.Dispose();
                handoff = flow.BeginHandoff(decode);
                var body = flow.CreatePrefillBody(request, handoff);
                observer.PrefillStarted(instance, upstreamRequestId);
                last = await prefillClient.SendAsync(instance, request.Route, body, upstreamRequestId, context.RequestAborted, context.Request.Headers);
                observer.PrefillEnded(last);
            }

            lastInstance = instance;
            if (!last.IsRetryable)
            {
                if (last.Kind != PrefillAttemptKind.Canceled)
                {
                    lease.ReportSuccess();
                }

                break;
            }

            lease.ReportFailure();
            ProxyLog.PrefillFailed(logger, requestId, instance.Name, last.Kind.ToString(), last.Detail);
            (failed ??= []).Add(instance);
        }

        return new PrefillStage(last, lastInstance, upstreamRequestId, handoff);
    }

    // Null when the client went away while waiting.
    private async Task<KvReadiness?> WaitForKvAsync(Run run, KvHandoff handoff, UpstreamInstance decode)
    {
        try
        {
            var readiness = await handoff.WaitForKvAsync(run.Context.RequestAborted);
            if (readiness == KvReadiness.TimedOut)
            {
                ProxyLog.KvReadyTimedOut(logger, run.RequestId, decode.Name);
            }

            return readiness;
        }
        catch (OperationCanceledException) when (run.Context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task DecodeAloneAsync(Run run)
    {
        var (context, request, requestId, routing, exchange, _, migration) = run;
        using var lease = selector.Select(PdRole.Decode, routing);
        if (lease is null)
        {
            await UpstreamErrorResponses.NoInstanceAsync(context, PdRole.Decode, registry, time);
            return;
        }

        var upstreamRequestId = flow.CreateUpstreamRequestId(requestId, null, lease.Instance);
        var call = new DecodeCall(lease.Instance, request.Route, request.Body, requestId, upstreamRequestId, prefillInstance: null, request.Stream)
        {
            Progress = migration.Progress,
        };
        var relayed = await RelayAsync(run, call, lease);
        exchange.KvTransfer = relayed.Call.KvTransferOutcome;
    }

    private async Task<(DecodeOutcomeKind Kind, DecodeCall Call)> RelayAsync(Run run, DecodeCall call, InstanceLease lease)
    {
        var (context, _, _, routing, exchange, observer, _) = run;
        exchange.DecodeInstance = call.Instance.Name;
        var outcome = await decodeForwarder.ForwardAsync(context, call, observer);
        Report(lease, call, outcome);

        // Only a connect failure is retried: D never saw the request. Not for connectors whose KV
        // was pushed to that D (P2pNccl, PyNccl).
        if (outcome.Kind == DecodeOutcomeKind.ConnectFailed && flow.Capabilities.DecodeRetryIsSafe)
        {
            using var retryLease = selector.Select(PdRole.Decode, routing with { Exclude = new HashSet<UpstreamInstance> { call.Instance } });
            if (retryLease is not null)
            {
                observer.DecodeRetried();
                call = new DecodeCall(retryLease.Instance, call.Route, call.Body, call.RequestId, call.UpstreamRequestId, call.PrefillInstance, call.Stream)
                {
                    Progress = call.Progress,
                };
                exchange.DecodeInstance = call.Instance.Name;
                outcome = await decodeForwarder.ForwardAsync(context, call, observer);
                Report(retryLease, call, outcome);
            }
        }

        (outcome, call) = await MigrateAsync(run, call, outcome);

        switch (outcome.Kind)
        {
            case DecodeOutcomeKind.ConnectFailed or DecodeOutcomeKind.FailedBeforeResponse:
                await UpstreamErrorResponses.GatewayAsync(context, outcome.TimedOut, outcome.Message ?? "The decode instance could not be reached.");
                break;
            case DecodeOutcomeKind.FailedDuringResponse:
                ProxyLog.DecodeFailed(logger, call.RequestId, call.Instance.Name, outcome.Kind.ToString(), outcome.Detail);
                exchange.FailedStatus = StatusCodes.Status502BadGateway;
                break;
        }

        if (call.StreamError is { } streamError)
        {
            exchange.FailedStatus = call.StreamErrorStatus ?? StatusCodes.Status502BadGateway;
            ProxyLog.DecodeStreamError(logger, call.RequestId, call.Instance.Name, streamError);
        }

        return (outcome.Kind, call);
    }

    private void Report(InstanceLease lease, DecodeCall call, DecodeOutcome outcome)
    {
        switch (outcome.Kind)
        {
            case DecodeOutcomeKind.Relayed when call.StatusCode < 500 && call.StreamError is null:
                lease.ReportSuccess();
                break;
            case DecodeOutcomeKind.Canceled:
                break;
            default:
                lease.ReportFailure();
                if (outcome.Kind != DecodeOutcomeKind.Relayed)
                {
                    ProxyLog.DecodeFailed(logger, call.RequestId, call.Instance.Name, outcome.Kind.ToString(), outcome.Detail);
                }

                break;
        }
    }

    private static void CountTransfer(Run run, DecodeCall call, bool? prefillConfirmed)
    {
        var exchange = run.Exchange;
        if (!call.Responded)
        {
            return;
        }

        // The simulator says what D found; a real vLLM D says nothing, so Nixl's evidence from P
        // (kv_transfer_params returned) is the best available confirmation.
        var outcome = call.KvTransferOutcome;
        exchange.KvTransfer = outcome ?? (prefillConfirmed switch { true => "params", false => "no-params", null => null });
        if (outcome == KvTransferOutcomes.Hit || (outcome is null && prefillConfirmed == true))
        {
            run.Observer.KvTransferObserved(found: true);
        }
        else if (outcome == KvTransferOutcomes.Miss || (outcome is null && prefillConfirmed == false))
        {
            run.Observer.KvTransferObserved(found: false);
        }
    }

    private void CountCancelledAfterPrefill(Run run, UpstreamInstance prefillInstance)
    {
        run.Observer.CancelledAfterPrefill();
        ProxyLog.CancelledAfterPrefill(logger, run.RequestId, prefillInstance.Name);
    }

    // Routing for what follows (with the prompt's KV block keys; only the holder eligible when a
    // decode instance's cache decided), and whether D computes the prompt alone.
    private readonly record struct PdDecision(RoutingContext Routing, bool DecodeAlone);

    private sealed record PrefillStage(PrefillAttempt? Attempt, UpstreamInstance? Instance, string UpstreamRequestId, KvHandoff Handoff);

    // What every step of one request needs, passed as one value.
    private sealed record Run(
        HttpContext Context, CompletionRequest Request, string RequestId, RoutingContext Routing, PdExchange Exchange, IRequestObserver Observer, MigrationState Migration);
}
