namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// The <c>reason</c> label of <c>pdapp.proxy.migrations</c>: why a decode failed (outcomes
/// <see cref="MigrationOutcomes.Migrated"/> and <see cref="MigrationOutcomes.Failed"/>) or why the
/// request could not move (<see cref="MigrationOutcomes.Refused"/>).
/// </summary>
public static class MigrationReasons
{
    /// <summary>D's connection broke (crash, reset, injected abort).</summary>
    public const string ConnectionLost = "connection_lost";

    /// <summary>D was silent longer than <c>Pd:Proxy:Timeouts:DecodeIdleSeconds</c> mid-stream.</summary>
    public const string IdleTimeout = "idle_timeout";

    /// <summary>D ended its stream with an in-band server error (its engine died).</summary>
    public const string EngineError = "engine_error";

    /// <summary>D failed before its response headers (nothing was sent to the client yet).</summary>
    public const string NoResponse = "no_response";

    /// <summary>Refused: <c>Pd:Proxy:Migration:MaxAttempts</c> is 0.</summary>
    public const string Disabled = "disabled";

    /// <summary>Refused: the request already moved <c>MaxAttempts</c> times.</summary>
    public const string LimitReached = "limit_reached";

    /// <summary>Refused: <c>n</c> or <c>best_of</c> above 1 (several sequences cannot be continued as one).</summary>
    public const string MultipleChoices = "n";

    /// <summary>Refused: completions <c>logprobs</c> (text offsets restart), <c>prompt_logprobs</c> or <c>echo</c>.</summary>
    public const string Logprobs = "logprobs";

    /// <summary>Refused: guided decoding or a structured <c>response_format</c> (the grammar state would restart).</summary>
    public const string GuidedDecoding = "guided_decoding";

    /// <summary>Refused: a prompt of token ids or several prompts (the relayed text cannot be appended exactly).</summary>
    public const string PromptShape = "prompt_shape";

    /// <summary>
    /// Refused: a non-streaming request whose token limit (<c>max_tokens</c>, <c>max_completion_tokens</c>,
    /// or none) exceeds <c>Pd:Proxy:Migration:MaxNonStreamingTokens</c> (a move would rerun its whole generation).
    /// </summary>
    public const string NonStreamingSize = "non_streaming_size";

    /// <summary>Refused: the connector pushes KV to one fixed decode instance (PyNccl).</summary>
    public const string Connector = "connector";

    /// <summary>Refused: the stream broke after its <c>finish_reason</c> (only usage and <c>[DONE]</c> were missing).</summary>
    public const string Finished = "finished";

    /// <summary>Refused: a non-streaming response broke after its headers were relayed.</summary>
    public const string ResponseStarted = "response_started";

    /// <summary>
    /// Refused: only one decode instance was known when the request started (nowhere to move, so its
    /// stream is not tracked); failed: no other healthy decode instance when it had to move.
    /// </summary>
    public const string NoDecodeInstance = "no_decode_instance";

    /// <summary>Failed: the continuation's prefill failed and D cannot prefill alone.</summary>
    public const string PrefillFailed = "prefill_failed";

    /// <summary>Failed: the continuation's decode did not answer with a stream.</summary>
    public const string ContinuationFailed = "continuation_failed";
}

/// <summary>The <c>outcome</c> label of <c>pdapp.proxy.migrations</c>.</summary>
public static class MigrationOutcomes
{
    /// <summary>The request continued on another decode instance.</summary>
    public const string Migrated = "migrated";

    /// <summary>The request could not move; it ended as without migration (in-band error or 502/504).</summary>
    public const string Refused = "refused";

    /// <summary>A move was tried and failed; it ended in-band.</summary>
    public const string Failed = "failed";
}
