using System.CommandLine;
using PdApp.Bench.Measurement;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Cli;

/// <summary>
/// The command line's options, one instance per command (no shared static state). Where vLLM's
/// <c>vllm bench serve</c> has an option for the same thing, its name is the primary spelling
/// and PdApp's earlier name an exact alias (<c>--dataset-name</c>/<c>--dataset</c>,
/// <c>--random-input-len</c>/<c>--input-len</c>, ...).
/// </summary>
internal sealed class BenchOptions
{
    /// <summary><c>--dataset-name</c> of the prefix-repetition dataset (vLLM's name).</summary>
    public const string PrefixRepetitionName = "prefix_repetition";

    /// <summary><c>--dataset-name</c> of the multi-turn conversation dataset.</summary>
    public const string MultiTurnName = "multi_turn";

    /// <summary>Creates the options.</summary>
    public BenchOptions()
    {
        Endpoint.AcceptOnlyFromAmong("completions", "chat", CompletionsPath, ChatPath);
        Backend.AcceptOnlyFromAmong("openai", "vllm", "openai-chat");
        Dataset.AcceptOnlyFromAmong("random", "sharegpt", "custom", "jsonl", PrefixRepetitionName, MultiTurnName);
        CompareMode.AcceptOnlyFromAmong("interleaved", "sequential");
        PdDirect.Arity = new ArgumentArity(2, 2);
        PdDirect.AllowMultipleArgumentsPerToken = true;
        Connector.Arity = ArgumentArity.OneOrMore;
        Connector.AllowMultipleArgumentsPerToken = true;
        MaxConcurrency.AllowMultipleArgumentsPerToken = true;
        Goodput.AllowMultipleArgumentsPerToken = true;
        Goodput.Arity = ArgumentArity.OneOrMore;
        Metadata.AllowMultipleArgumentsPerToken = true;
    }

    /// <summary>vLLM's <c>--endpoint</c> value for completions.</summary>
    public const string CompletionsPath = "/v1/completions";

    /// <summary>vLLM's <c>--endpoint</c> value for chat completions.</summary>
    public const string ChatPath = "/v1/chat/completions";

    /// <summary><c>--base-url</c>.</summary>
    public Option<Uri?> BaseUrl { get; } = new("--base-url")
    {
        Description = "Server to benchmark, e.g. http://127.0.0.1:8000 (the proxy or one vLLM server).",
        CustomParser = OptionParsers.ParseHttpUrl,
    };

    /// <summary><c>--pd-direct</c>.</summary>
    public Option<Uri[]> PdDirect { get; } = new("--pd-direct")
    {
        Description = "Drive a prefill/decode pair from the client: <prefill url> <decode url>. The baseline for proxy overhead.",
        CustomParser = OptionParsers.ParseHttpUrls,
        HelpName = "prefill-url decode-url",
    };

    /// <summary><c>--connector</c>.</summary>
    public Option<string[]> Connector { get; } = new("--connector")
    {
        Description = "With --pd-direct: the instances' kv_connector, then a MultiConnector's children (e.g. NixlConnector, or MultiConnector NixlConnector SharedStorageConnector). "
            + "It decides what the client adds to the prefill and decode bodies, as the proxy would. Default: SharedStorageConnector (nothing added).",
        HelpName = "name [child ...]",
    };

    /// <summary><c>--compare</c>.</summary>
    public Option<Uri?> Compare { get; } = new("--compare")
    {
        Description = "A second server; the same workload is sent to both, interleaved request by request, and ratios are printed (second / first).",
        CustomParser = OptionParsers.ParseHttpUrl,
    };

    /// <summary><c>--compare-mode</c>.</summary>
    public Option<string> CompareMode { get; } = new("--compare-mode")
    {
        Description = "With --compare: interleaved (both targets under one alternating arrival stream; compares latency) or sequential (one after the other; also compares throughput).",
        DefaultValueFactory = _ => "interleaved",
    };

    /// <summary><c>--endpoint</c>.</summary>
    public Option<string> Endpoint { get; } = new("--endpoint")
    {
        Description = "API to call: completions or /v1/completions (default), chat or /v1/chat/completions.",
    };

    /// <summary><c>--backend</c> (vLLM's): picks the endpoint when <c>--endpoint</c> is not given.</summary>
    public Option<string?> Backend { get; } = new("--backend")
    {
        Description = "As vLLM's: openai or vllm (completions), openai-chat (chat completions).",
    };

    /// <summary><c>--model</c>.</summary>
    public Option<string?> Model { get; } = new("--model")
    {
        Description = "Model name to send; by default the first model of GET /v1/models.",
    };

    /// <summary><c>--stream</c>.</summary>
    public Option<bool> Stream { get; } = new("--stream") { Description = "Stream responses (default)." };

    /// <summary><c>--no-stream</c>.</summary>
    public Option<bool> NoStream { get; } = new("--no-stream") { Description = "Do not stream; TTFT then equals the end-to-end latency." };

    /// <summary><c>--ignore-eos</c>.</summary>
    public Option<bool> IgnoreEos { get; } = new("--ignore-eos") { Description = "Send ignore_eos so every request generates exactly its output length (vLLM)." };

    /// <summary><c>--dataset-name</c> (alias <c>--dataset</c>).</summary>
    public Option<string> Dataset { get; } = new("--dataset-name", "--dataset")
    {
        Description = "Prompts: random (synthetic), sharegpt (ShareGPT JSON), custom or jsonl ({\"prompt\":...} per line), " +
            "prefix_repetition (shared prefixes, vLLM's) or multi_turn (conversations, each turn extending the last).",
        DefaultValueFactory = _ => "random",
    };

    /// <summary><c>--dataset-path</c>.</summary>
    public Option<FileInfo?> DatasetPath { get; } = new("--dataset-path") { Description = "The sharegpt, custom or jsonl file." };

    /// <summary><c>--random-input-len</c> (alias <c>--input-len</c>).</summary>
    public Option<int> InputLen { get; } = new("--random-input-len", "--input-len")
    {
        Description = "Random dataset: mean prompt length in tokens.",
        DefaultValueFactory = _ => 1024,
    };

    /// <summary><c>--output-len</c>: the output length of whichever dataset is used.</summary>
    public Option<int?> OutputLen { get; } = new("--output-len")
    {
        Description = "Output tokens per request, any dataset (random default 128; custom/jsonl default for lines without max_tokens; sharegpt: fixed instead of the reference reply's length).",
    };

    /// <summary><c>--random-output-len</c> (vLLM's; applies to the random dataset only).</summary>
    public Option<int?> RandomOutputLen { get; } = new("--random-output-len")
    {
        Description = "Random dataset: output tokens per request (default 128); ignored for other datasets, as in vLLM.",
    };

    /// <summary><c>--sharegpt-output-len</c> (vLLM's).</summary>
    public Option<int?> ShareGptOutputLen { get; } = new("--sharegpt-output-len")
    {
        Description = "ShareGPT dataset: fixed output length instead of the reference reply's; ignored for other datasets.",
    };

    /// <summary><c>--custom-output-len</c> (vLLM's).</summary>
    public Option<int?> CustomOutputLen { get; } = new("--custom-output-len")
    {
        Description = "Custom/jsonl dataset: output length of lines without max_tokens; ignored for other datasets.",
    };

    /// <summary><c>--random-range-ratio</c> (alias <c>--range-ratio</c>).</summary>
    public Option<double> RangeRatio { get; } = new("--random-range-ratio", "--range-ratio")
    {
        Description = "Random dataset: lengths uniform within ± this fraction of --random-input-len/--random-output-len, in [0, 1).",
        DefaultValueFactory = _ => 0.0,
    };

    /// <summary><c>--random-prefix-len</c> (alias <c>--prefix-len</c>).</summary>
    public Option<int> PrefixLen { get; } = new("--random-prefix-len", "--prefix-len")
    {
        Description = "Random dataset: tokens of shared prefix prepended to each prompt (0 = none).",
        DefaultValueFactory = _ => 0,
    };

    /// <summary><c>--prefix-groups</c>.</summary>
    public Option<int> PrefixGroups { get; } = new("--prefix-groups")
    {
        Description = "Random dataset: number of distinct shared prefixes.",
        DefaultValueFactory = _ => 1,
    };

    /// <summary><c>--prefix-skew</c>.</summary>
    public Option<double> PrefixSkew { get; } = new("--prefix-skew")
    {
        Description = "Random dataset: Zipf exponent of prefix popularity (0 uniform, 1.2 = a few hot prefixes).",
        DefaultValueFactory = _ => 0.0,
    };

    /// <summary><c>--prefix-repetition-prefix-len</c> (vLLM's).</summary>
    public Option<int> PrefixRepetitionPrefixLen { get; } = new("--prefix-repetition-prefix-len")
    {
        Description = "Prefix repetition dataset: tokens of each shared prefix.",
        DefaultValueFactory = _ => PrefixRepetitionOptions.Default.PrefixTokens,
    };

    /// <summary><c>--prefix-repetition-suffix-len</c> (vLLM's).</summary>
    public Option<int> PrefixRepetitionSuffixLen { get; } = new("--prefix-repetition-suffix-len")
    {
        Description = "Prefix repetition dataset: tokens of each request's own suffix (prompt = prefix + suffix).",
        DefaultValueFactory = _ => PrefixRepetitionOptions.Default.SuffixTokens,
    };

    /// <summary><c>--prefix-repetition-num-prefixes</c> (vLLM's).</summary>
    public Option<int> PrefixRepetitionNumPrefixes { get; } = new("--prefix-repetition-num-prefixes")
    {
        Description = "Prefix repetition dataset: distinct prefixes, requests spread evenly over them.",
        DefaultValueFactory = _ => PrefixRepetitionOptions.Default.NumPrefixes,
    };

    /// <summary><c>--prefix-repetition-output-len</c> (vLLM's).</summary>
    public Option<int?> PrefixRepetitionOutputLen { get; } = new("--prefix-repetition-output-len")
    {
        Description = "Prefix repetition dataset: output tokens per request (default 128); ignored for other datasets.",
    };

    /// <summary><c>--multi-turn-turns</c>.</summary>
    public Option<int> MultiTurnTurns { get; } = new("--multi-turn-turns")
    {
        Description = "Multi-turn dataset: user turns per conversation.",
        DefaultValueFactory = _ => MultiTurnOptions.Default.Turns,
    };

    /// <summary><c>--multi-turn-system-prompt-len</c>.</summary>
    public Option<int> MultiTurnSystemPromptLen { get; } = new("--multi-turn-system-prompt-len")
    {
        Description = "Multi-turn dataset: tokens of the system prompt each conversation opens with.",
        DefaultValueFactory = _ => MultiTurnOptions.Default.SystemPromptTokens,
    };

    /// <summary><c>--multi-turn-num-system-prompts</c>.</summary>
    public Option<int> MultiTurnNumSystemPrompts { get; } = new("--multi-turn-num-system-prompts")
    {
        Description = "Multi-turn dataset: distinct system prompts shared by the conversations.",
        DefaultValueFactory = _ => MultiTurnOptions.Default.NumSystemPrompts,
    };

    /// <summary><c>--multi-turn-user-len</c>.</summary>
    public Option<int> MultiTurnUserLen { get; } = new("--multi-turn-user-len")
    {
        Description = "Multi-turn dataset: tokens of each user message.",
        DefaultValueFactory = _ => MultiTurnOptions.Default.UserTokens,
    };

    /// <summary><c>--multi-turn-output-len</c>.</summary>
    public Option<int?> MultiTurnOutputLen { get; } = new("--multi-turn-output-len")
    {
        Description = "Multi-turn dataset: output tokens per turn (default 64), also the length of the answer the next turn carries; ignored for other datasets.",
    };

    /// <summary><c>--multi-turn-active-conversations</c>.</summary>
    public Option<int> MultiTurnActiveConversations { get; } = new("--multi-turn-active-conversations")
    {
        Description = "Multi-turn dataset: conversations in progress at once (their turns interleave).",
        DefaultValueFactory = _ => MultiTurnOptions.Default.ActiveConversations,
    };

    /// <summary><c>--request-rate</c>.</summary>
    public Option<double> RequestRate { get; } = new("--request-rate")
    {
        Description = "Poisson arrival rate in requests/s per target, or inf to send all at once.",
        CustomParser = OptionParsers.ParseRate,
        DefaultValueFactory = _ => double.PositiveInfinity,
    };

    /// <summary><c>--burstiness</c>.</summary>
    public Option<double> Burstiness { get; } = new("--burstiness")
    {
        Description = "Gamma shape of inter-arrival times, as vLLM's: 1 = Poisson, < 1 burstier, > 1 more regular.",
        DefaultValueFactory = _ => 1.0,
    };

    /// <summary><c>--max-concurrency</c>.</summary>
    public Option<int[]> MaxConcurrency { get; } = new("--max-concurrency")
    {
        Description = "Most requests in flight per target; several values (e.g. 1 64 256) run a sweep.",
    };

    /// <summary><c>--num-prompts</c>.</summary>
    public Option<int?> NumPrompts { get; } = new("--num-prompts") { Description = "Requests per target and run (default 1000)." };

    /// <summary><c>--duration</c>.</summary>
    public Option<TimeSpan?> Duration { get; } = new("--duration")
    {
        Description = "Keep sending for this long instead of a fixed count (e.g. 30s, 5m); prompts cycle.",
        CustomParser = OptionParsers.ParseDuration,
    };

    /// <summary><c>--num-warmups</c> (alias <c>--warmup</c>).</summary>
    public Option<int> Warmup { get; } = new("--num-warmups", "--warmup")
    {
        Description = "Unmeasured requests per target before each run.",
        DefaultValueFactory = _ => 0,
    };

    /// <summary><c>--prompt-offset</c> (PdApp's).</summary>
    public Option<int> PromptOffset { get; } = new("--prompt-offset")
    {
        Description = "Skip this many prompts of the seeded dataset: runs with one --seed and growing offsets send fresh prompts " +
            "after the same shared prefixes / system prompts (a warm cache without repeating a prompt).",
        DefaultValueFactory = _ => 0,
    };

    /// <summary><c>--seed</c>.</summary>
    public Option<int> Seed { get; } = new("--seed")
    {
        Description = "Seed of prompt generation, dataset shuffling and arrivals.",
        DefaultValueFactory = _ => 0,
    };

    /// <summary><c>--api-key</c>.</summary>
    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        // No DefaultValueFactory: help prints defaults, and a key must never appear in help output.
        Description = "Bearer key to send (default: the OPENAI_API_KEY environment variable).",
    };

    /// <summary><c>--timeout</c>.</summary>
    public Option<TimeSpan?> Timeout { get; } = new("--timeout")
    {
        Description = "Per-request limit (default 10m).",
        CustomParser = OptionParsers.ParseDuration,
    };

    /// <summary><c>--goodput</c> (vLLM's).</summary>
    public Option<SloSettings?> Goodput { get; } = new("--goodput")
    {
        Description = "Service-level objectives for goodput as KEY:VALUE pairs in milliseconds, KEY one of ttft, tpot, e2el (e.g. --goodput ttft:500 tpot:50).",
        CustomParser = OptionParsers.ParseGoodput,
        HelpName = "KEY:VALUE",
    };

    /// <summary><c>--slo-ttft-ms</c>: the same as <c>--goodput ttft:VALUE</c>.</summary>
    public Option<double?> SloTtftMs { get; } = new("--slo-ttft-ms") { Description = "Goodput: TTFT objective in milliseconds (same as --goodput ttft:VALUE)." };

    /// <summary><c>--slo-tpot-ms</c>: the same as <c>--goodput tpot:VALUE</c>.</summary>
    public Option<double?> SloTpotMs { get; } = new("--slo-tpot-ms") { Description = "Goodput: TPOT objective in milliseconds (same as --goodput tpot:VALUE)." };

    /// <summary><c>--percentile-metrics</c> (vLLM's).</summary>
    public Option<LatencyMetric[]> PercentileMetrics { get; } = new("--percentile-metrics")
    {
        Description = "Comma-separated metrics whose statistics the vLLM-style summary and --save-result report: ttft, tpot, itl, e2el (default ttft,tpot,itl).",
        CustomParser = OptionParsers.ParseLatencyMetrics,
        HelpName = "metrics",
    };

    /// <summary><c>--metric-percentiles</c> (vLLM's).</summary>
    public Option<double[]> MetricPercentiles { get; } = new("--metric-percentiles")
    {
        Description = "Comma-separated percentiles to report for those metrics, e.g. 50,90,99 (default 99).",
        CustomParser = OptionParsers.ParsePercentiles,
        HelpName = "percentiles",
    };

    /// <summary><c>--save-result</c> (vLLM's).</summary>
    public Option<bool> SaveResult { get; } = new("--save-result")
    {
        Description = "Save each run (target and concurrency level) as a JSON file with vLLM's keys, which vLLM's tooling reads.",
    };

    /// <summary><c>--result-dir</c> (vLLM's).</summary>
    public Option<DirectoryInfo?> ResultDir { get; } = new("--result-dir")
    {
        Description = "Folder of the --save-result files (default: the current folder); implies --save-result.",
    };

    /// <summary><c>--result-filename</c> (vLLM's).</summary>
    public Option<string?> ResultFilename { get; } = new("--result-filename")
    {
        Description = "File name of the --save-result file (default as vLLM's: {label}-{rate}qps[-concurrency{n}]-{model}-{date}.json); " +
            "with several runs the target label and concurrency are added before the extension. Implies --save-result.",
    };

    /// <summary><c>--label</c> (vLLM's).</summary>
    public Option<string?> Label { get; } = new("--label")
    {
        Description = "Short label of the target in tables, charts and result files (default: host:port, or pd-direct).",
    };

    /// <summary><c>--compare-label</c>.</summary>
    public Option<string?> CompareLabel { get; } = new("--compare-label")
    {
        Description = "Short label of the --compare target (default: its host:port).",
    };

    /// <summary><c>--metadata</c> (vLLM's).</summary>
    public Option<string[]> Metadata { get; } = new("--metadata")
    {
        Description = "KEY=VALUE pairs added to each --save-result file, e.g. --metadata version=1 topology=1p1d.",
        HelpName = "KEY=VALUE",
    };

    /// <summary><c>--ready-check-timeout-sec</c> (vLLM's).</summary>
    public Option<int> ReadyCheckTimeoutSec { get; } = new("--ready-check-timeout-sec")
    {
        Description = "How long the initial test request is retried while the server is not ready yet (connection refused, 502/503/504), in seconds; " +
            "0 skips the test request. Any other failure stops the run at once.",
        DefaultValueFactory = _ => 600,
    };

    /// <summary><c>--output-json</c>.</summary>
    public Option<FileInfo?> OutputJson { get; } = new("--output-json") { Description = "Write PdApp's report of every run and comparison as JSON to this file." };

    /// <summary><c>--plot</c>.</summary>
    public Option<FileInfo?> Plot { get; } = new("--plot") { Description = "Write a chart to this .svg or .png file (percentiles; throughput vs concurrency for sweeps)." };

    /// <summary><c>--no-progress</c> (alias <c>--disable-tqdm</c>, vLLM's).</summary>
    public Option<bool> NoProgress { get; } = new("--no-progress", "--disable-tqdm") { Description = "No live progress display." };

    /// <summary>Every option, in help order.</summary>
    public IEnumerable<Option> All =>
    [
        BaseUrl, PdDirect, Connector, Compare, CompareMode, Label, CompareLabel, Backend, Endpoint, Model, Stream, NoStream, IgnoreEos,
        Dataset, DatasetPath, InputLen, RandomOutputLen, OutputLen, ShareGptOutputLen, CustomOutputLen,
        RangeRatio, PrefixLen, PrefixGroups, PrefixSkew,
        PrefixRepetitionPrefixLen, PrefixRepetitionSuffixLen, PrefixRepetitionNumPrefixes, PrefixRepetitionOutputLen,
        MultiTurnTurns, MultiTurnSystemPromptLen, MultiTurnNumSystemPrompts, MultiTurnUserLen, MultiTurnOutputLen, MultiTurnActiveConversations,
        RequestRate, Burstiness, MaxConcurrency, NumPrompts, Duration, Warmup, Seed, PromptOffset, ReadyCheckTimeoutSec,
        ApiKey, Timeout, Goodput, SloTtftMs, SloTpotMs, PercentileMetrics, MetricPercentiles,
        SaveResult, ResultDir, ResultFilename, Metadata, OutputJson, Plot, NoProgress,
    ];

    /// <summary>The endpoint kind chosen.</summary>
    /// <param name="endpoint">The <c>--endpoint</c> value, or null when not given.</param>
    /// <param name="backend">The <c>--backend</c> value, or null when not given.</param>
    public static EndpointKind ToEndpoint(string? endpoint, string? backend) =>
        endpoint is "chat" or ChatPath || (endpoint is null && backend == "openai-chat") ? EndpointKind.Chat : EndpointKind.Completions;

    /// <summary>The dataset kind chosen.</summary>
    public static DatasetKind ToDataset(string value) => value switch
    {
        "jsonl" or "custom" => DatasetKind.Jsonl,
        "sharegpt" => DatasetKind.ShareGpt,
        PrefixRepetitionName => DatasetKind.PrefixRepetition,
        MultiTurnName => DatasetKind.MultiTurn,
        _ => DatasetKind.Random,
    };
}
