namespace PdApp.Proxy.Pipeline.Options;

/// <summary>
/// Request migration, bound from <c>Pd:Proxy:Migration</c>: when a decode instance fails after the
/// stream started (connection lost, idle timeout, an in-band engine error) or before it answered,
/// the proxy continues the request on another decode instance with the text already relayed
/// appended to the prompt (NVIDIA Dynamo's <c>--migration-limit</c>).
/// </summary>
public sealed class MigrationOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = ProxyOptions.Section + ":Migration";

    /// <summary>The key of <see cref="MaxAttempts"/>.</summary>
    public const string MaxAttemptsKey = Section + ":" + nameof(MaxAttempts);

    /// <summary>
    /// <c>Pd:Proxy:Migration:MaxAttempts</c>: how many times one request may move to another decode
    /// instance (default 1; 0 turns migration off and a failed decode ends the stream in-band). One
    /// is enough for a crash or a rolling restart; more only help when several instances fail at once,
    /// and each move costs the client a stall of about one time to first token.
    /// </summary>
    public int MaxAttempts { get; set; } = 1;

    /// <summary>The key of <see cref="MaxNonStreamingTokens"/>.</summary>
    public const string MaxNonStreamingTokensKey = Section + ":" + nameof(MaxNonStreamingTokens);

    /// <summary>
    /// <c>Pd:Proxy:Migration:MaxNonStreamingTokens</c>: a non-streaming request migrates only when its
    /// <c>max_tokens</c> (or <c>max_completion_tokens</c>) is at most this (default 4096; 0 lifts the
    /// limit). A non-streaming decode sends nothing until its generation is done, so a move restarts
    /// the generation from its first token: a failure near the end of a long answer costs the client
    /// its whole generation time again and a decode instance the same work twice. At 4096 tokens and
    /// vLLM's usual 20-50 ms per token, the worst case (failure just before the end, then a full
    /// rerun) stays under about 7 minutes, inside the OpenAI SDKs' default 10-minute client timeout; a
    /// longer answer's rerun would often finish for a client that already left. A request without a
    /// token limit may generate up to the model's context length and is refused while a limit is set.
    /// Streaming requests have no such limit: their move carries the text already relayed.
    /// </summary>
    public int MaxNonStreamingTokens { get; set; } = 4096;

    /// <summary>The key of <see cref="DecodeAloneBelowTokens"/>.</summary>
    public const string DecodeAloneBelowTokensKey = Section + ":" + nameof(DecodeAloneBelowTokens);

    /// <summary>The default of <see cref="DecodeAloneBelowTokens"/> where the connector lets decode prefill alone.</summary>
    public const int DefaultDecodeAloneBelowTokens = 512;

    /// <summary>
    /// <c>Pd:Proxy:Migration:DecodeAloneBelowTokens</c>: a disaggregated request's continuation whose
    /// extended prompt (the original prompt plus the text already relayed) is estimated shorter than
    /// this goes to the surviving decode instance alone, which computes that prompt itself, instead of
    /// through a prefill instance and a KV hand-off; 0 turns it off (the continuation takes the same PD
    /// decision as a new request). A decode instance's death turns all its streams into continuations at
    /// once; on the prefill path each one waits for a prefill slot among the others, a second HTTP call
    /// and a KV transfer, while the decode instance folds a short prompt into its running batch (vLLM's
    /// chunked prefill): in <c>bench/RESULTS.md</c> 5.3-5.4 it halved the stall at the migration point.
    /// Unset, it is <see cref="DefaultDecodeAloneBelowTokens"/> where the connector lets decode prefill
    /// alone and off where it does not (PyNccl, P2pNccl, whose decode waits for KV); a value above 0 set
    /// with those connectors is refused at start-up. The estimate is
    /// <see cref="DisaggregationOptions.SkipPrefillBelowTokens"/>'s.
    /// </summary>
    public int? DecodeAloneBelowTokens { get; set; }
}
