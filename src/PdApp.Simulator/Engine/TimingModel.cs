using PdApp.Simulator.Configuration;
using PdApp.Simulator.Scheduling;

namespace PdApp.Simulator.Engine;

/// <summary>
/// How long each phase takes, after llm-d-inference-sim's model: prefill = base TTFT + per-token cost
/// of uncached prompt tokens; a KV hit replaces prefill by the transfer cost; each decode step costs
/// the inter-token latency scaled by load, growing linearly from 1 with one running sequence to
/// <c>--time-factor-under-load</c> at <c>--max-num-seqs</c> (batched decode slows as the batch grows).
/// With <c>--prefill-contention</c> the per-token part queues behind the prefills already admitted
/// (<see cref="PrefillCompute"/>), so an instance that receives more uncached tokens than it can
/// compute saturates. With contention and <c>prefill interference</c> (default; <c>--no-prefill-interference</c>
/// turns it off) prefill and decode share the engine's steps as in vLLM's chunked-prefill batches:
/// a decode step also carries the prefill chunk the instance owes (up to <c>--max-num-batched-tokens</c>
/// tokens), and each of a prompt's chunks also pays the running decode batch's step.
/// </summary>
internal sealed class TimingModel(SimulatorOptions options, PrefillCompute compute)
{
    private readonly TimingOptions _timing = options.Timing;

    /// <summary>Time to compute <paramref name="uncachedTokens"/> prompt tokens locally, from now (reserves the compute).</summary>
    public TimeSpan Prefill(int uncachedTokens) =>
        TimeSpan.FromMilliseconds(_timing.TimeToFirstTokenMs) + compute.Reserve(uncachedTokens, DecodeShareOfChunks(uncachedTokens));

    /// <summary>Time to recompute the tail that transferred KV does not cover (no fixed part; reserves the compute).</summary>
    public TimeSpan RecomputeTail(int uncachedTokens) => compute.Reserve(uncachedTokens, DecodeShareOfChunks(uncachedTokens));

    /// <summary>
    /// Time of one decode step with <paramref name="running"/> sequences in the batch, plus the
    /// prefill chunk the step carries when the instance owes prefill compute (interference).
    /// </summary>
    public TimeSpan DecodeStepWithPrefill(int running) => DecodeStep(running) + compute.ChunkInNextStep();

    /// <summary>
    /// The decode part of the steps a prompt's chunks ride in: one decode step of the instance's
    /// decoding batch per <c>--max-num-batched-tokens</c> chunk, when any sequence decodes (interference).
    /// </summary>
    private TimeSpan DecodeShareOfChunks(int uncachedTokens)
    {
        var decoding = compute.Decoding;
        if (!compute.Interference || decoding == 0 || uncachedTokens <= 0)
        {
            return TimeSpan.Zero;
        }

        var chunks = (uncachedTokens + _timing.MaxNumBatchedTokens - 1) / _timing.MaxNumBatchedTokens;
        return chunks * DecodeStep(decoding);
    }

    /// <summary>Time to pull <paramref name="transferredTokens"/> tokens of KV from the producer.</summary>
    public TimeSpan Transfer(int transferredTokens) =>
        TimeSpan.FromMilliseconds(_timing.KvCacheTransferLatencyMs + (_timing.KvCacheTransferTimePerTokenMs * transferredTokens));

    /// <summary>Time of one decode step with <paramref name="running"/> sequences in the batch.</summary>
    public TimeSpan DecodeStep(int running) =>
        TimeSpan.FromMilliseconds(_timing.InterTokenLatencyMs * LoadFactor(running));

    /// <summary>The load multiplier for <paramref name="running"/> sequences.</summary>
    public double LoadFactor(int running)
    {
        if (_timing.MaxNumSeqs <= 1 || running <= 1)
        {
            return 1.0;
        }

        var fraction = Math.Min(1.0, (running - 1) / (double)(_timing.MaxNumSeqs - 1));
        return 1.0 + ((_timing.TimeFactorUnderLoad - 1.0) * fraction);
    }
}
