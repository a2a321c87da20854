using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline;

/// <summary>
/// Request migration: a decode that fails after the stream started (or before it answered)
/// continues on another decode instance, with the text already relayed appended to the prompt,
/// up to <c>Pd:Proxy:Migration:MaxAttempts</c> times; the KV for the continuation comes the same
/// way as the request's own (prefill again on P, preferably the P that prefilled the original prompt and
/// holds it in its prefix cache, fresh NIXL parameters, a new P2pNccl request id),
/// or from D alone where the request was served by D alone or where the PD decision for the
/// extended prompt says so (the same one a new request takes: a decode instance's prefix cache holds
/// all but <c>SkipPrefillBelowUncachedTokens</c> of it, or it is under <c>SkipPrefillBelowTokens</c>),
/// or where the extended prompt is under <c>Pd:Proxy:Migration:DecodeAloneBelowTokens</c>.
/// Where it cannot move, it ends as before: in-band error and <c>[DONE]</c>, or a 502/504.
/// </summary>
public sealed partial class PdRequestPipeline
{
    private string? ConnectorRefusal() =>

        // PyNccl pushes KV into one fixed P-D pipe: a continuation cannot be prefilled for another D.
        // P2pNccl names D in a fresh request id, so it can.
        !flow.Capabilities.DecodeRetryIsSafe && !flow.SelectsDecodeBeforePrefill ? MigrationReasons.Connector : null;

    // With one decode instance a failed decode has nowhere to go (the failed one is never chosen again):
    // the request is refused up front, so its stream is relayed without the per-event tracking a move needs.
    private string? NowhereToMove() =>
        MigrationEligibility.HasSomewhereToMove(registry) ? null : MigrationReasons.NoDecodeInstance;

    private async Task<(DecodeOutcome Outcome, DecodeCall Call)> MigrateAsync(Run run, DecodeCall call, DecodeOutcome outcome)
    {
        var (context, _, requestId, _, exchange, observer, migration) = run;
        var started = false;
        while (FailureCause(context, call, outcome, started |= ResponseUnderWay(context, call, outcome)) is { } cause)
        {
            var progress = migration.Progress;
            var tokens = progress?.Tokens ?? 0;
            var refusal = migration.RefusalNow() ?? (progress?.Finished == true ? MigrationReasons.Finished : null);
            if (refusal is not null)
            {
                observer.DecodeMigration(MigrationOutcomes.Refused, refusal, tokens);
                ProxyLog.MigrationRefused(logger, requestId, call.Instance.Name, cause, refusal);
                await EndInBandAsync(context, progress, started);
                return (outcome, call);
            }

            migration.CountAttempt();
            migration.FailedDecodes.Add(call.Instance);
            // Kept only when the timing log is on: it reads the thread pool's counters at the failure and the first token.
            var timeline = timingLogger is { } timing && timing.IsEnabled(LogLevel.Debug)
                ? new MigrationTimeline(progress!.FailedAt, progress.LastContentAt, tokens)
                : null;
            var leg = await PrepareContinuationAsync(run, progress!, call.PrefillInstance, timeline);
            if (leg.Failure is { } failure)
            {
                if (failure == Canceled)
                {
                    return (new DecodeOutcome(DecodeOutcomeKind.Canceled), call);
                }

                observer.DecodeMigration(MigrationOutcomes.Failed, failure, tokens);
                ProxyLog.MigrationFailed(logger, requestId, call.Instance.Name, cause, failure);
                await EndInBandAsync(context, progress, started);
                return (outcome, call);
            }

            using (leg)
            {
                var next = leg.Call!;
                observer.DecodeMigration(MigrationOutcomes.Migrated, cause, tokens);
                ProxyLog.Migrating(logger, requestId, call.Instance.Name, next.Instance.Name, cause, tokens, migration.Reproducible);
                exchange.DecodeInstance = next.Instance.Name;
                progress!.ClearFailure();
                if (started)
                {
                    var rewriter = new ContinuationEventRewriter(tokens, migration.OriginalPromptTokens);
                    outcome = await decodeForwarder.ForwardContinuationAsync(context, next, rewriter, observer, timeline);
                    if (outcome.Kind is DecodeOutcomeKind.FailedBeforeResponse or DecodeOutcomeKind.ConnectFailed)
                    {
                        // The client's stream is under way: the continuation's failure is a stream failure.
                        progress.Fail(MigrationReasons.ContinuationFailed, StatusCodes.Status502BadGateway, outcome.Detail ?? "The decode instance could not be reached.");
                    }
                }
                else
                {
                    outcome = await decodeForwarder.ForwardAsync(context, next, observer);
                }

                Report(leg.Lease!, next, outcome);
                if (timeline is not null)
                {
                    MigrationTimingLog.Write(timingLogger!, requestId, next.UpstreamRequestId, call.Instance.Name, next.Instance.Name, timeline);
                }
                call = next;
            }
        }

        return (outcome, call);
    }

    // Whether the client's response is under way: D's status and headers were relayed.
    private static bool ResponseUnderWay(HttpContext context, DecodeCall call, DecodeOutcome outcome) =>
        context.Response.HasStarted
        || (call.Responded && outcome.Kind is DecodeOutcomeKind.Relayed or DecodeOutcomeKind.FailedDuringResponse);

    // Why the decode that just ended needs a move, or null when it does not.
    private static string? FailureCause(HttpContext context, DecodeCall call, DecodeOutcome outcome, bool started)
    {
        if (outcome.Kind == DecodeOutcomeKind.Canceled || context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }

        if (started)
        {
            // Only an event stream relayed with progress can continue (one without was ended
            // in-band by the body guard: counted as refused); a JSON body cut after its headers
            // was already reset by the relay.
            return call.Progress?.FailureReason ?? call.StreamFailureReason;
        }

        return outcome.Kind is DecodeOutcomeKind.FailedBeforeResponse or DecodeOutcomeKind.ConnectFailed ? MigrationReasons.NoResponse : null;
    }

    // The stream cannot continue: what vLLM sends in-band (D's own error event when it sent one).
    private static async Task EndInBandAsync(HttpContext context, StreamProgress? progress, bool started)
    {
        if (!started || progress?.FailureReason is null)
        {
            // Not started: the relay answers 502/504. No progress: the body guard already ended the stream.
            return;
        }

        try
        {
            if (progress.WithheldEvent.IsEmpty)
            {
                await context.Response.Body.WriteAsync(SseErrorTrailer.Create(progress.FailureStatus, progress.FailureMessage ?? "The decode instance failed."), context.RequestAborted);
            }
            else
            {
                await context.Response.Body.WriteAsync(progress.WithheldEvent, context.RequestAborted);
                await context.Response.Body.WriteAsync(SseFormat.DoneEvent, context.RequestAborted);
            }

            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client left.
        }
    }

    // prefixHolder: the prefill instance that prefilled the failed call, whose prefix cache holds the original prompt.
    private async Task<ContinuationLeg> PrepareContinuationAsync(Run run, StreamProgress progress, UpstreamInstance? prefixHolder, MigrationTimeline? timeline)
    {
        var (context, request, requestId, routing, exchange, _, migration) = run;
        var body = ContinuationBody.Create(request, progress);
        if (!CompletionRequestParser.TryParse(request.Route, body, servedModel: null, out var continuation, out _))
        {
            return ContinuationLeg.Failed(MigrationReasons.ContinuationFailed);
        }

        timeline?.MarkBuilt();

        // The original prompt's block keys do not describe the continuation's: the decision takes its own. The
        // continuation begins with the original prompt, so the prefill instance that computed it computes only the
        // relayed text again (vLLM's prefix cache): it is chosen again where it can take the request.
        var decodeRouting = routing with { Exclude = migration.FailedDecodes, KvBlockKeys = null, KvPromptTokens = 0, PrefixHolder = prefixHolder };
        InstanceLease? decode = null;
        PrefillStage? prefill = null;
        try
        {
            // A request D served alone continues alone; a disaggregated one takes the same PD decision
            // as a new request for its extended prompt: D alone when a healthy decode instance already
            // holds enough of it (the cache-aware decision) or when it is short.
            var alone = exchange.Mode != PdMode.Disaggregated;
            if (!alone)
            {
                var decision = await DecideAsync(continuation!, decodeRouting, context.RequestAborted);
                (decodeRouting, alone) = (decision.Routing, decision.DecodeAlone || ContinuesOnDecodeAlone(continuation!));
            }

            if (flow.SelectsDecodeBeforePrefill && (decode = selector.Select(PdRole.Decode, decodeRouting)) is null)
            {
                return ContinuationLeg.Failed(MigrationReasons.NoDecodeInstance, continuation);
            }

            if (!alone)
            {
                timeline?.MarkPrefillSent();
                prefill = await PrefillAsync(run with { Request = continuation!, Routing = decodeRouting }, decode?.Instance);
                timeline?.MarkPrefillAnswered();
                switch (prefill.Attempt)
                {
                    case { Kind: PrefillAttemptKind.Canceled }:
                        return ContinuationLeg.Failed(Canceled, continuation, decode);
                    case null or { IsRetryable: true } when flow.Capabilities.DecodeCanPrefillAlone:
                        alone = true;
                        break;
                    case null or { IsRetryable: true } or { Kind: PrefillAttemptKind.Rejected }:
                        return ContinuationLeg.Failed(MigrationReasons.PrefillFailed, continuation, decode);
                }
            }

            decode ??= selector.Select(PdRole.Decode, decodeRouting);
            if (decode is null)
            {
                return ContinuationLeg.Failed(MigrationReasons.NoDecodeInstance, continuation);
            }

            timeline?.MarkDecodeLeased();

            if (!alone && await WaitForKvAsync(run, prefill!.Handoff, decode.Instance) is null)
            {
                return ContinuationLeg.Failed(Canceled, continuation, decode);
            }

            DecodeCall call;
            if (alone)
            {
                var upstreamRequestId = flow.CreateUpstreamRequestId(requestId, null, decode.Instance);
                call = new DecodeCall(decode.Instance, request.Route, continuation!.Body, requestId, upstreamRequestId, prefillInstance: null, request.Stream)
                {
                    Progress = progress,
                };
            }
            else
            {
                var decodeBody = flow.CreateDecodeBody(continuation!, prefill!.Attempt!.ToResponse(), prefill.Instance!, decode.Instance);
                call = new DecodeCall(decode.Instance, request.Route, decodeBody.Body, requestId, prefill.UpstreamRequestId, prefill.Instance, request.Stream)
                {
                    Progress = progress,
                };
            }

            var leg = new ContinuationLeg(call, decode, continuation, null);
            decode = null;
            continuation = null;
            return leg;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return ContinuationLeg.Failed(Canceled, continuation, decode);
        }
        finally
        {
            prefill?.Handoff.Dispose();
            decode?.Dispose();
            continuation?.Dispose();
        }
    }

    // Pd:Proxy:Migration:DecodeAloneBelowTokens: a short continuation skips the prefill instance and the KV hand-off
    // (unset: the default, where the connector lets decode prefill alone; flow.CanSkipPrefill says whether it does).
    private bool ContinuesOnDecodeAlone(CompletionRequest continuation) =>
        (options.Value.Migration.DecodeAloneBelowTokens ?? MigrationOptions.DefaultDecodeAloneBelowTokens) is var below and > 0
        && continuation.EstimatedPromptTokens < below
        && flow.CanSkipPrefill;

    private const string Canceled = "canceled";

    // One continuation: its decode call, the lease on its instance and its parsed request (both
    // held until the relay ends), or why it could not be prepared.
    private sealed record ContinuationLeg(DecodeCall? Call, InstanceLease? Lease, CompletionRequest? Request, string? Failure) : IDisposable
    {
        public static ContinuationLeg Failed(string failure, CompletionRequest? request = null, InstanceLease? lease = null)
        {
            request?.Dispose();
            lease?.Dispose();
            return new ContinuationLeg(null, null, null, failure);
        }

        public void Dispose()
        {
            Lease?.Dispose();
            Request?.Dispose();
        }
    }
}
