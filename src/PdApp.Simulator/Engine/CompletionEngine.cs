using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Generation;
using PdApp.Simulator.KvTransfer;
using PdApp.Simulator.Metrics;
using PdApp.Simulator.Scheduling;

namespace PdApp.Simulator.Engine;

/// <summary>
/// Runs one request through the simulated engine: queue for a slot, load transferred KV or prefill,
/// hand KV to the connector, then decode token by token at the load-dependent step time. Waiting is
/// timer-based (no thread per request) and every wait observes the client's cancellation, so a
/// disconnect frees the slot and its KV at once.
/// </summary>
internal sealed partial class CompletionEngine(
    SimulatorOptions options,
    EngineScheduler scheduler,
    PrefixCache prefixCache,
    TimingModel timing,
    PrefillCompute compute,
    IKvConnectorSimulation connector,
    InstanceIdentity identity,
    SimulatorMetrics metrics,
    TimeProvider time,
    ILogger<CompletionEngine> logger)
{
    /// <summary>Runs <paramref name="job"/>, writing its output to <paramref name="sink"/>.</summary>
    public async Task<CompletionResult> RunAsync(CompletionJob job, ICompletionSink sink, CancellationToken cancellationToken)
    {
        var promptTokens = job.Kv.PromptTokenIds.Length;
        // The thread pool's counters are read only for the timing log (PendingWorkItemCount walks every thread's queue).
        var timed = logger.IsEnabled(LogLevel.Debug);
        var timeline = new EngineTimeline
        {
            RunningAtEntry = scheduler.Running,
            QueuedAtEntry = timed ? ThreadPool.PendingWorkItemCount : 0,
            ThreadsAtEntry = timed ? ThreadPool.ThreadCount : 0,
        };
        using var sequence = await scheduler.AdmitAsync(promptTokens, cancellationToken).ConfigureAwait(false);
        var admitted = time.GetTimestamp();
        timeline.Admitted = admitted;
        metrics.QueueTime.Observe(time.GetElapsedTime(job.ArrivalTimestamp, admitted).TotalSeconds);
        using var prefix = prefixCache.Acquire(job.Kv.PromptTokenIds);
        metrics.PrefixCacheQueried(promptTokens, prefix.CachedTokens);

        var finishedReason = "abort";
        try
        {
            var (kvOutcome, kvParams) = await PrefillAsync(job, prefix, timeline, cancellationToken).ConfigureAwait(false);
            metrics.AddPromptTokens(promptTokens);
            var firstToken = time.GetTimestamp();
            timeline.PromptDone = firstToken;
            metrics.PrefillTime.Observe(time.GetElapsedTime(admitted, firstToken).TotalSeconds);
            metrics.TimeToFirstToken.Observe(time.GetElapsedTime(job.ArrivalTimestamp, firstToken).TotalSeconds);
            await sink.BeginAsync(kvOutcome, cancellationToken).ConfigureAwait(false);

            var (finish, stopReason, generated) = await DecodeAsync(job, sequence, sink, firstToken, timeline, cancellationToken).ConfigureAwait(false);
            finishedReason = finish;

            var end = time.GetTimestamp();
            var decodeSeconds = time.GetElapsedTime(firstToken, end).TotalSeconds;
            metrics.DecodeTime.Observe(decodeSeconds);
            if (generated > 1)
            {
                metrics.TimePerOutputToken.Observe(decodeSeconds / (generated - 1));
            }

            metrics.E2eLatency.Observe(time.GetElapsedTime(job.ArrivalTimestamp, end).TotalSeconds);
            LogTimeline(job, timeline);
            return new CompletionResult(finish, stopReason, promptTokens, generated, kvOutcome, kvParams);
        }
        finally
        {
            metrics.RequestFinished(finishedReason);
        }
    }

    private async Task<(string Outcome, System.Text.Json.Nodes.JsonObject? Params)> PrefillAsync(
        CompletionJob job, PrefixHold prefix, EngineTimeline timeline, CancellationToken cancellationToken)
    {
        var promptTokens = job.Kv.PromptTokenIds.Length;
        if (options.Faults.AddedLatencyMs > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(options.Faults.AddedLatencyMs), time, cancellationToken).ConfigureAwait(false);
        }

        var outcome = KvTransferOutcomes.None;

        // Automatic prefix caching: only the tokens after the cached leading blocks are computed.
        var uncached = promptTokens - prefix.CachedTokens;
        if (connector.ShouldConsume(job.Kv))
        {
            var consumed = await connector.TryConsumeAsync(job.Kv, cancellationToken).ConfigureAwait(false);
            timeline.KvLoaded = time.GetTimestamp();
            if (consumed.Hit)
            {
                outcome = KvTransferOutcomes.Hit;
                metrics.KvTransfer(connector.Name, KvTransferOutcomes.Hit);
                LogKvHit(job.Kv.RequestId, consumed.TransferredTokens, consumed.Producer);
                await Task.Delay(timing.Transfer(consumed.TransferredTokens), time, cancellationToken).ConfigureAwait(false);
                uncached = promptTokens - consumed.TransferredTokens;
            }
            else
            {
                outcome = KvTransferOutcomes.Miss;
                metrics.KvTransfer(connector.Name, KvTransferOutcomes.Miss);
                LogKvMiss(job.Kv.RequestId, consumed.Reason);
            }
        }

        if (outcome != KvTransferOutcomes.Hit)
        {
            await Task.Delay(timing.Prefill(uncached), time, cancellationToken).ConfigureAwait(false);
        }
        else if (uncached > 0)
        {
            // vLLM recomputes the tail the transferred blocks do not cover (at least the last token).
            await Task.Delay(timing.RecomputeTail(uncached), time, cancellationToken).ConfigureAwait(false);
        }

        // Computed or received, the prompt's full blocks are now in this instance's prefix cache
        // (transferred KV counts as cached on the decode side).
        prefix.StoreComputed();

        // A kv_both instance that missed computes the KV and may save it; its header still says "miss"
        // (what the consumer side saw), while the produced counter records the save.
        System.Text.Json.Nodes.JsonObject? kvParams = null;
        if (outcome != KvTransferOutcomes.Hit && connector.ShouldProduce(job.Kv))
        {
            var record = new KvRecord(job.Kv.PromptHash, promptTokens, identity.Name, identity.EngineId, time.GetUtcNow().ToUnixTimeMilliseconds());
            var produced = await connector.ProduceAsync(job.Kv, record, cancellationToken).ConfigureAwait(false);
            if (produced.Produced)
            {
                outcome = outcome == KvTransferOutcomes.Miss ? outcome : KvTransferOutcomes.Produced;
                kvParams = produced.KvTransferParams;
                metrics.KvTransfer(connector.Name, KvTransferOutcomes.Produced);
                LogKvProduced(job.Kv.RequestId, promptTokens);
            }
            else if (produced.IsExpected)
            {
                LogNothingToTransfer(job.Kv.RequestId, produced.Reason);
            }
            else
            {
                LogKvNotProduced(job.Kv.RequestId, produced.Reason);
            }
        }

        return (outcome, kvParams);
    }

    private async Task<(string Finish, string? StopReason, int Generated)> DecodeAsync(
        CompletionJob job, RunningSequence sequence, ICompletionSink sink, long firstToken, EngineTimeline timeline, CancellationToken cancellationToken)
    {
        var generator = new TextGenerator(job.ContextText, job.Seed);
        var limit = job.MaxTokens ?? Math.Max(1, job.ContextRoom);
        // Reaching max_tokens or the end of the context is "length", as in vLLM.
        const string finishOnLimit = "length";
        var matcher = new StopStringMatcher(job.Stop);
        var faults = options.Faults;

        // Past its first token a sequence is in the instance's decode batch: prefills there pay its steps.
        using var decoding = limit > 1 ? compute.EnterDecode() : null;

        // Deadlines accumulate from the first token so timer slack (about a millisecond per wait) does
        // not add up over a long stream; after a stall longer than a step the debt is dropped instead
        // of bursting tokens out faster than an engine could step.
        var due = TimeSpan.Zero;
        for (var index = 0; index < limit; index++)
        {
            if (index > 0)
            {
                var step = timing.DecodeStepWithPrefill(scheduler.Running);
                due += step;
                var elapsed = time.GetElapsedTime(firstToken);
                var wait = due - elapsed;
                if (wait < -step)
                {
                    due = elapsed;
                }
                else if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }
            }

            if (faults.AbortAfterTokens > 0 && index == faults.AbortAfterTokens)
            {
                throw new InjectedStreamFaultException(dropConnection: true, index);
            }

            if (faults.ErrorAfterTokens > 0 && index == faults.ErrorAfterTokens)
            {
                throw new InjectedStreamFaultException(dropConnection: false, index);
            }

            sequence.AppendToken();
            metrics.AddGenerationTokens(1);
            var token = generator.NextToken();
            var endOfSequence = job.MaxTokens is null && generator.EndsHere();
            var isLast = index == limit - 1 || endOfSequence;
            var delta = matcher.Append(token, isLast);
            if (matcher.MatchedStop is not null)
            {
                await sink.WriteTokenAsync(delta, "stop", matcher.MatchedStop, cancellationToken).ConfigureAwait(false);
                return ("stop", matcher.MatchedStop, index + 1);
            }

            if (endOfSequence)
            {
                await sink.WriteTokenAsync(delta, "stop", null, cancellationToken).ConfigureAwait(false);
                return ("stop", null, index + 1);
            }

            await sink.WriteTokenAsync(delta, isLast ? finishOnLimit : null, null, cancellationToken).ConfigureAwait(false);
            if (index == 0)
            {
                timeline.FirstTokenWritten = time.GetTimestamp();
            }
        }

        return (finishOnLimit, null, limit);
    }

    private void LogTimeline(CompletionJob job, EngineTimeline timeline)
    {
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }

        double Since(long timestamp) => timestamp == 0 ? double.NaN : time.GetElapsedTime(job.ArrivalTimestamp, timestamp).TotalMilliseconds;
        var arrivedUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds() - time.GetElapsedTime(job.ArrivalTimestamp).TotalMilliseconds;
        LogRequestTimeline(
            job.Kv.RequestId, arrivedUnixMs, Since(timeline.Admitted), Since(timeline.KvLoaded), Since(timeline.PromptDone), Since(timeline.FirstTokenWritten),
            timeline.RunningAtEntry, timeline.QueuedAtEntry, timeline.ThreadsAtEntry);
    }

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Request {RequestId} engine timing: arrived at {ArrivedUnixMs:0.0}; ms after arrival: admitted {AdmittedMs:0.0}, KV loaded {KvLoadedMs:0.0}, prompt done {PromptDoneMs:0.0}, first token written {FirstTokenMs:0.0}; {Running} running, {Queued} thread-pool work items queued and {Threads} thread-pool threads at entry")]
    private partial void LogRequestTimeline(
        string requestId, double arrivedUnixMs, double admittedMs, double kvLoadedMs, double promptDoneMs, double firstTokenMs, int running, long queued, int threads);

    [LoggerMessage(Level = LogLevel.Information, Message = "KV hit for {RequestId}: {Tokens} tokens from {Producer}")]
    private partial void LogKvHit(string requestId, int tokens, string? producer);

    [LoggerMessage(Level = LogLevel.Information, Message = "KV miss for {RequestId}, prefilling locally: {Reason}")]
    private partial void LogKvMiss(string requestId, string? reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "KV produced for {RequestId}: {Tokens} tokens")]
    private partial void LogKvProduced(string requestId, int tokens);

    [LoggerMessage(Level = LogLevel.Warning, Message = "KV not produced for {RequestId}: {Reason}")]
    private partial void LogKvNotProduced(string requestId, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "No KV to transfer for {RequestId}: {Reason}")]
    private partial void LogNothingToTransfer(string requestId, string? reason);
}
