namespace PdApp.Protocol.Vllm;

/// <summary>
/// The <c>vllm serve</c> command line PdApp speaks: the app host renders it, the simulator parses it,
/// both from these definitions (vllm/entrypoints/cli/serve.py, vllm/engine/arg_utils.py,
/// vllm/entrypoints/openai/cli_args.py).
/// </summary>
public static class VllmEngineArguments
{
    /// <summary>The <c>vllm</c> subcommand that starts the OpenAI server; the model is its positional argument.</summary>
    public const string ServeCommand = "serve";

    /// <summary>The module older images start with <c>python3 -m</c>; the model is given with <see cref="Model"/>.</summary>
    public const string ApiServerModule = "vllm.entrypoints.openai.api_server";

    /// <summary><c>--model</c>.</summary>
    public static VllmFlag Model { get; } = new("--model", VllmFlagArity.One);

    /// <summary><c>--served-model-name</c>: the names clients use.</summary>
    public static VllmFlag ServedModelName { get; } = new("--served-model-name", VllmFlagArity.Many);

    /// <summary><c>--host</c>.</summary>
    public static VllmFlag Host { get; } = new("--host", VllmFlagArity.One);

    /// <summary><c>--port</c>.</summary>
    public static VllmFlag Port { get; } = new("--port", VllmFlagArity.One);

    /// <summary><c>--max-model-len</c>.</summary>
    public static VllmFlag MaxModelLen { get; } = new("--max-model-len", VllmFlagArity.One);

    /// <summary><c>--api-key</c>.</summary>
    public static VllmFlag ApiKey { get; } = new("--api-key", VllmFlagArity.One);

    /// <summary><c>--kv-transfer-config</c>: a <see cref="KvTransferConfig"/> as JSON.</summary>
    public static VllmFlag KvTransferConfig { get; } = new("--kv-transfer-config", VllmFlagArity.One);

    /// <summary><c>--enable-request-id-headers</c>.</summary>
    public static VllmFlag EnableRequestIdHeaders { get; } = new("--enable-request-id-headers", VllmFlagArity.None);

    /// <summary><c>--otlp-traces-endpoint</c>.</summary>
    public static VllmFlag OtlpTracesEndpoint { get; } = new("--otlp-traces-endpoint", VllmFlagArity.One);

    /// <summary><c>--block-size</c>: tokens per KV block.</summary>
    public static VllmFlag BlockSize { get; } = new("--block-size", VllmFlagArity.One);

    /// <summary><c>--kv-events-config</c>: a <see cref="KvEvents.KvEventsConfig"/> as JSON (KV cache events over ZeroMQ).</summary>
    public static VllmFlag KvEventsConfig { get; } = new("--kv-events-config", VllmFlagArity.One);

    /// <summary><c>--prefix-caching-hash-algo</c>: the prefix cache's block hash (<c>sha256</c>, <c>sha256_cbor</c>, ...).</summary>
    public static VllmFlag PrefixCachingHashAlgo { get; } = new("--prefix-caching-hash-algo", VllmFlagArity.One);

    /// <summary><c>--enable-prefix-caching</c>.</summary>
    public static VllmFlag EnablePrefixCaching { get; } = new("--enable-prefix-caching", VllmFlagArity.None);

    /// <summary><c>--seed</c>.</summary>
    public static VllmFlag Seed { get; } = new("--seed", VllmFlagArity.One);

    /// <summary><c>--max-num-seqs</c>: sequences per scheduler step.</summary>
    public static VllmFlag MaxNumSeqs { get; } = new("--max-num-seqs", VllmFlagArity.One);

    /// <summary><c>--gpu-memory-utilization</c>.</summary>
    public static VllmFlag GpuMemoryUtilization { get; } = new("--gpu-memory-utilization", VllmFlagArity.One);

    /// <summary><c>--tensor-parallel-size</c> (<c>-tp</c>).</summary>
    public static VllmFlag TensorParallelSize { get; } = new("--tensor-parallel-size", VllmFlagArity.One, "--tp");

    /// <summary><c>--pipeline-parallel-size</c> (<c>-pp</c>).</summary>
    public static VllmFlag PipelineParallelSize { get; } = new("--pipeline-parallel-size", VllmFlagArity.One, "--pp");

    /// <summary><c>--tokenizer</c>: the tokenizer's name or path; default: the model.</summary>
    public static VllmFlag Tokenizer { get; } = new("--tokenizer", VllmFlagArity.One);

    /// <summary><c>--trust-remote-code</c>.</summary>
    public static VllmFlag TrustRemoteCode { get; } = new("--trust-remote-code", VllmFlagArity.None);

    /// <summary>
    /// Flags that only shape the real engine on its GPU (memory, parallelism, precision, loading,
    /// logging): a simulator accepts and ignores them, so one command line serves both.
    /// </summary>
    public static IReadOnlyList<VllmFlag> EngineOnly { get; } =
    [
        GpuMemoryUtilization,
        TensorParallelSize,
        PipelineParallelSize,
        TrustRemoteCode,
        new("--data-parallel-size", VllmFlagArity.One, "--dp"),
        new("--dtype", VllmFlagArity.One),
        new("--quantization", VllmFlagArity.One),
        new("--kv-cache-dtype", VllmFlagArity.One),
        new("--swap-space", VllmFlagArity.One),
        new("--cpu-offload-gb", VllmFlagArity.One),
        new("--max-num-batched-tokens", VllmFlagArity.One),
        new("--distributed-executor-backend", VllmFlagArity.One),
        new("--load-format", VllmFlagArity.One),
        new("--download-dir", VllmFlagArity.One),
        new("--revision", VllmFlagArity.One),
        new("--enforce-eager", VllmFlagArity.None),
        EnablePrefixCaching,
        PrefixCachingHashAlgo,
        new("--no-enable-prefix-caching", VllmFlagArity.None),
        new("--enable-chunked-prefill", VllmFlagArity.None),
        new("--disable-log-requests", VllmFlagArity.None),
        new("--disable-log-stats", VllmFlagArity.None),
        new("--disable-frontend-multiprocessing", VllmFlagArity.None),
    ];

    /// <summary>Flags whose meaning a simulator reproduces (serving, KV transfer, scheduling).</summary>
    public static IReadOnlyList<VllmFlag> Served { get; } =
    [
        Model, Tokenizer, ServedModelName, Host, Port, MaxModelLen, ApiKey, KvTransferConfig,
        EnableRequestIdHeaders, OtlpTracesEndpoint, BlockSize, Seed, MaxNumSeqs, KvEventsConfig,
    ];
}
