using PdApp.Protocol;

namespace PdApp.Simulator.Configuration;

/// <summary>
/// Everything the simulator was started with: the <c>vllm serve</c> flags it honours and its own
/// timing and fault flags (named after llm-d-inference-sim where the concept matches). Built once by
/// <see cref="SimulatorOptionsParser"/>, validated there, read-only afterwards.
/// </summary>
public sealed record SimulatorOptions
{
    /// <summary>Model path or name (positional or <c>--model</c>).</summary>
    public required string Model { get; init; }

    /// <summary><c>--served-model-name</c>: names clients may use; the first appears in responses.</summary>
    public IReadOnlyList<string> ServedModelNames { get; init; } = [];

    /// <summary>The name written in responses and metrics: the first served name, else the model.</summary>
    public string PrimaryModelName => ServedModelNames.Count > 0 ? ServedModelNames[0] : Model;

    /// <summary><c>--host</c> (default <c>0.0.0.0</c>, as vLLM).</summary>
    public string Host { get; init; } = "0.0.0.0";

    /// <summary><c>--port</c> (default 8000; 0 picks a free port).</summary>
    public int Port { get; init; } = 8000;

    /// <summary><c>--max-model-len</c> in tokens.</summary>
    public int MaxModelLen { get; init; } = 4096;

    /// <summary><c>--api-key</c>: when set, <c>/v1/*</c> requires <c>Authorization: Bearer</c>.</summary>
    public string? ApiKey { get; init; }

    /// <summary><c>--enable-request-id-headers</c> (accepted; the simulator always echoes <c>X-Request-Id</c>).</summary>
    public bool EnableRequestIdHeaders { get; init; }

    /// <summary><c>--otlp-traces-endpoint</c>: exported to OpenTelemetry as the OTLP endpoint when set.</summary>
    public string? OtlpTracesEndpoint { get; init; }

    /// <summary><c>--block-size</c>: tokens per KV block (vLLM default 16).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>
    /// <c>--seed</c>: seeds fault injection. Generated text is seeded per request (its <c>seed</c>, else
    /// its prompt), so every instance gives the same prompt the same text.
    /// </summary>
    public long Seed { get; init; }

    /// <summary><c>--instance-name</c>; default <c>OTEL_SERVICE_NAME</c>, else <c>host:port</c>.</summary>
    public string? InstanceName { get; init; }

    /// <summary>
    /// <c>--tokenizer</c>: the tokenizer's directory, as in vLLM (defaults to the model). The
    /// simulator loads it when it holds Hugging Face tokenizer files, else falls back to GPT-2.
    /// </summary>
    public string? Tokenizer { get; init; }

    /// <summary><c>--kv-transfer-config</c>, when given.</summary>
    public KvTransferConfig? KvTransfer { get; init; }

    /// <summary><c>--kv-events-config</c>, when given: publish the prefix cache's KV events as vLLM does.</summary>
    public PdApp.Protocol.KvEvents.KvEventsConfig? KvEvents { get; init; }

    /// <summary>Timing model.</summary>
    public TimingOptions Timing { get; init; } = new();

    /// <summary>Fault injection.</summary>
    public FaultOptions Faults { get; init; } = new();
}

/// <summary>The engine's timing model. Defaults approximate a 7B model on one H100 (see the README).</summary>
public sealed record TimingOptions
{
    /// <summary><c>--time-to-first-token</c> (ms): fixed part of prefill.</summary>
    public double TimeToFirstTokenMs { get; init; } = 20;

    /// <summary><c>--prefill-time-per-token</c> (ms per uncached prompt token).</summary>
    public double PrefillTimePerTokenMs { get; init; } = 0.1;

    /// <summary><c>--inter-token-latency</c> (ms per output token at a load of one sequence).</summary>
    public double InterTokenLatencyMs { get; init; } = 10;

    /// <summary><c>--kv-cache-transfer-latency</c> (ms): fixed part of pulling transferred KV instead of prefilling.</summary>
    public double KvCacheTransferLatencyMs { get; init; } = 5;

    /// <summary><c>--kv-cache-transfer-time-per-token</c> (ms per transferred prompt token).</summary>
    public double KvCacheTransferTimePerTokenMs { get; init; } = 0.01;

    /// <summary><c>--max-num-seqs</c>: sequences running at once; the rest wait.</summary>
    public int MaxNumSeqs { get; init; } = 256;

    /// <summary><c>--time-factor-under-load</c>: decode time multiplier reached at <see cref="MaxNumSeqs"/> running.</summary>
    public double TimeFactorUnderLoad { get; init; } = 2.0;

    /// <summary><c>--kv-cache-size</c>: KV capacity in blocks of <c>--block-size</c> tokens.</summary>
    public int KvCacheSizeBlocks { get; init; } = 7000;

    /// <summary><c>--kv-transfer-wait-timeout</c> (ms): how long a consumer waits for KV pushed asynchronously.</summary>
    public double KvTransferWaitTimeoutMs { get; init; } = 500;

    /// <summary>
    /// <c>--prefill-contention</c>: concurrent prefills share the instance's compute, oldest first, as
    /// vLLM's scheduler fills each step's token budget; off, each prefill takes its own time.
    /// </summary>
    public bool PrefillContention { get; init; }

    /// <summary>
    /// <c>--max-num-batched-tokens</c>: the tokens one engine step computes (vLLM's chunked-prefill
    /// budget; default 2048, vLLM's default for the OpenAI server on most GPUs). With
    /// <see cref="PrefillContention"/> and <see cref="PrefillInterference"/> it sizes the prefill
    /// chunk that rides in each decode step.
    /// </summary>
    public int MaxNumBatchedTokens { get; init; } = 2048;

    /// <summary>
    /// Prefill and decode share the engine's steps, as in vLLM's batches with chunked prefill: while
    /// the instance owes prefill compute, each decode step also computes a chunk of up to
    /// <see cref="MaxNumBatchedTokens"/> prompt tokens and takes that much longer, and each prefill
    /// chunk waits for the running decode sequences' step. On by default (vLLM has no other
    /// mode); only with <see cref="PrefillContention"/> (the shared compute it rides on);
    /// <c>--no-prefill-interference</c> turns it off (decode steps ignore prefills, as before).
    /// </summary>
    public bool PrefillInterference { get; init; } = true;
}

/// <summary>Fault injection settings.</summary>
public sealed record FaultOptions
{
    /// <summary>The failure types <c>--failure-types</c> accepts (llm-d-inference-sim's names).</summary>
    public static IReadOnlyList<string> KnownFailureTypes { get; } =
        ["rate_limit", "invalid_api_key", "context_length", "server_error", "invalid_request", "model_not_found"];

    /// <summary><c>--failure-injection-rate</c> (percent, 0-100) of completion requests that fail.</summary>
    public double FailureInjectionRate { get; init; }

    /// <summary><c>--failure-types</c>: which failures to inject (all when empty).</summary>
    public IReadOnlyList<string> FailureTypes { get; init; } = [];

    /// <summary><c>--fault-added-latency</c> (ms) added before the first token of every completion.</summary>
    public double AddedLatencyMs { get; init; }

    /// <summary><c>--fault-abort-after-tokens</c>: drop the connection after this many tokens (0 = never).</summary>
    public int AbortAfterTokens { get; init; }

    /// <summary><c>--fault-error-after-tokens</c>: end streams with an in-band error after this many tokens (0 = never).</summary>
    public int ErrorAfterTokens { get; init; }

    /// <summary><c>--fault-slow-start</c> (s): <c>/health</c> and <c>/v1</c> answer 503 this long after start.</summary>
    public double SlowStartSeconds { get; init; }

    /// <summary><c>--fault-unhealthy</c>: <c>/health</c> answers 503 from the start.</summary>
    public bool Unhealthy { get; init; }
}
