using System.CommandLine;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Cli;

/// <summary>The command line's options, one instance per command (no shared static state).</summary>
internal sealed class BenchOptions
{
    /// <summary>Creates the options.</summary>
    public BenchOptions()
    {
        Endpoint.AcceptOnlyFromAmong("completions", "chat");
        Dataset.AcceptOnlyFromAmong("random", "jsonl", "sharegpt");
        CompareMode.AcceptOnlyFromAmong("interleaved", "sequential");
        PdDirect.Arity = new ArgumentArity(2, 2);
        PdDirect.AllowMultipleArgumentsPerToken = true;
        Connector.Arity = ArgumentArity.OneOrMore;
        Connector.AllowMultipleArgumentsPerToken = true;
        MaxConcurrency.AllowMultipleArgumentsPerToken = true;
    }

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
        Description = "API to call: completions (/v1/completions) or chat (/v1/chat/completions).",
        DefaultValueFactory = _ => "completions",
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

    /// <summary><c>--dataset</c>.</summary>
    public Option<string> Dataset { get; } = new("--dataset")
    {
        Description = "Prompts: random (synthetic), jsonl ({\"prompt\":...} per line) or sharegpt (ShareGPT JSON).",
        DefaultValueFactory = _ => "random",
    };

    /// <summary><c>--dataset-path</c>.</summary>
    public Option<FileInfo?> DatasetPath { get; } = new("--dataset-path") { Description = "The jsonl or sharegpt file." };

    /// <summary><c>--input-len</c>.</summary>
    public Option<int> InputLen { get; } = new("--input-len")
    {
        Description = "Random dataset: mean prompt length in tokens.",
        DefaultValueFactory = _ => 1024,
    };

    /// <summary><c>--output-len</c>.</summary>
    public Option<int?> OutputLen { get; } = new("--output-len")
    {
        Description = "Output tokens per request (random default 128; jsonl default for lines without max_tokens; sharegpt: fixed instead of the reference reply's length).",
    };

    /// <summary><c>--range-ratio</c>.</summary>
    public Option<double> RangeRatio { get; } = new("--range-ratio")
    {
        Description = "Random dataset: lengths uniform within ± this fraction of --input-len/--output-len, in [0, 1).",
        DefaultValueFactory = _ => 0.0,
    };

    /// <summary><c>--prefix-len</c>.</summary>
    public Option<int> PrefixLen { get; } = new("--prefix-len")
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

    /// <summary><c>--warmup</c>.</summary>
    public Option<int> Warmup { get; } = new("--warmup")
    {
        Description = "Unmeasured requests per target before each run.",
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

    /// <summary><c>--slo-ttft-ms</c>.</summary>
    public Option<double?> SloTtftMs { get; } = new("--slo-ttft-ms") { Description = "Goodput: TTFT objective in milliseconds." };

    /// <summary><c>--slo-tpot-ms</c>.</summary>
    public Option<double?> SloTpotMs { get; } = new("--slo-tpot-ms") { Description = "Goodput: TPOT objective in milliseconds." };

    /// <summary><c>--output-json</c>.</summary>
    public Option<FileInfo?> OutputJson { get; } = new("--output-json") { Description = "Write the results as JSON to this file." };

    /// <summary><c>--plot</c>.</summary>
    public Option<FileInfo?> Plot { get; } = new("--plot") { Description = "Write a chart to this .svg or .png file (percentiles; throughput vs concurrency for sweeps)." };

    /// <summary><c>--no-progress</c>.</summary>
    public Option<bool> NoProgress { get; } = new("--no-progress") { Description = "No live progress display." };

    /// <summary>Every option, in help order.</summary>
    public IEnumerable<Option> All =>
    [
        BaseUrl, PdDirect, Connector, Compare, CompareMode, Endpoint, Model, Stream, NoStream, IgnoreEos,
        Dataset, DatasetPath, InputLen, OutputLen, RangeRatio, PrefixLen, PrefixGroups, PrefixSkew,
        RequestRate, Burstiness, MaxConcurrency, NumPrompts, Duration, Warmup, Seed,
        ApiKey, Timeout, SloTtftMs, SloTpotMs, OutputJson, Plot, NoProgress,
    ];

    /// <summary>The endpoint kind chosen.</summary>
    public static EndpointKind ToEndpoint(string value) =>
        value == "chat" ? EndpointKind.Chat : EndpointKind.Completions;

    /// <summary>The dataset kind chosen.</summary>
    public static DatasetKind ToDataset(string value) => value switch
    {
        "jsonl" => DatasetKind.Jsonl,
        "sharegpt" => DatasetKind.ShareGpt,
        _ => DatasetKind.Random,
    };
}
