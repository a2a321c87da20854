using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Scheduling;

namespace PdApp.Simulator.Metrics;

/// <summary>
/// vLLM's Prometheus metrics (vllm/v1/metrics/loggers.py names, buckets and the <c>model_name</c>
/// label) plus the simulator's KV transfer counters, rendered as text for <c>/metrics</c>.
/// </summary>
internal sealed class SimulatorMetrics
{
    // Bucket bounds as vLLM's PrometheusStatLogger declares them.
    private static readonly double[] TtftBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    private static readonly double[] TpotBuckets =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private static readonly double[] LatencyBuckets =
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    private readonly EngineScheduler _scheduler;
    private readonly string _labels;
    private readonly ConcurrentDictionary<string, long> _finished = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Connector, string Outcome), long> _kvTransfers = new();
    private long _promptTokens;
    private long _generationTokens;
    private long _injectedFailures;
    private long _prefixCacheQueries;
    private long _prefixCacheHits;

    /// <summary>Creates the metrics for one engine.</summary>
    public SimulatorMetrics(SimulatorOptions options, EngineScheduler scheduler)
    {
        _scheduler = scheduler;
        _labels = $"model_name=\"{Escape(options.PrimaryModelName)}\"";
    }

    /// <summary><c>vllm:time_to_first_token_seconds</c>.</summary>
    public Histogram TimeToFirstToken { get; } = new("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TtftBuckets);

    /// <summary><c>vllm:time_per_output_token_seconds</c> (one observation per request: its mean).</summary>
    public Histogram TimePerOutputToken { get; } = new("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", TpotBuckets);

    /// <summary><c>vllm:e2e_request_latency_seconds</c>.</summary>
    public Histogram E2eLatency { get; } = new("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", LatencyBuckets);

    /// <summary><c>vllm:request_queue_time_seconds</c>.</summary>
    public Histogram QueueTime { get; } = new("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", LatencyBuckets);

    /// <summary><c>vllm:request_prefill_time_seconds</c>.</summary>
    public Histogram PrefillTime { get; } = new("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", LatencyBuckets);

    /// <summary><c>vllm:request_decode_time_seconds</c>.</summary>
    public Histogram DecodeTime { get; } = new("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", LatencyBuckets);

    /// <summary>Counts prompt tokens processed.</summary>
    public void AddPromptTokens(int tokens) => Interlocked.Add(ref _promptTokens, tokens);

    /// <summary>Counts one generated token.</summary>
    public void AddGenerationTokens(int tokens) => Interlocked.Add(ref _generationTokens, tokens);

    /// <summary>Counts a finished request by its finish reason (stop, length, abort).</summary>
    public void RequestFinished(string finishedReason) => _finished.AddOrUpdate(finishedReason, 1, static (_, n) => n + 1);

    /// <summary>Counts one prefix cache lookup: the prompt's tokens queried and the cached tokens found.</summary>
    public void PrefixCacheQueried(int queriedTokens, int hitTokens)
    {
        Interlocked.Add(ref _prefixCacheQueries, queriedTokens);
        Interlocked.Add(ref _prefixCacheHits, hitTokens);
    }

    /// <summary>Prompt tokens looked up in the prefix cache so far.</summary>
    public long PrefixCacheQueries => Interlocked.Read(ref _prefixCacheQueries);

    /// <summary>Prompt tokens found in the prefix cache so far.</summary>
    public long PrefixCacheHits => Interlocked.Read(ref _prefixCacheHits);

    /// <summary>Counts a failure injected by <c>--failure-injection-rate</c>.</summary>
    public void FailureInjected() => Interlocked.Increment(ref _injectedFailures);

    /// <summary>Counts a KV transfer outcome (produced, hit, miss) for a connector.</summary>
    public void KvTransfer(string connector, string outcome) =>
        _kvTransfers.AddOrUpdate((connector, outcome), 1, static (_, n) => n + 1);

    /// <summary>Prompt tokens processed so far.</summary>
    public long PromptTokens => Interlocked.Read(ref _promptTokens);

    /// <summary>Tokens generated so far.</summary>
    public long GenerationTokens => Interlocked.Read(ref _generationTokens);

    /// <summary>The KV outcome counts as OpenTelemetry measurements tagged by connector and outcome.</summary>
    public IEnumerable<System.Diagnostics.Metrics.Measurement<long>> KvTransferMeasurements() =>
        _kvTransfers.Select(pair => new System.Diagnostics.Metrics.Measurement<long>(
            pair.Value,
            new KeyValuePair<string, object?>("connector", pair.Key.Connector),
            new KeyValuePair<string, object?>("outcome", pair.Key.Outcome)));

    /// <summary>The count of a KV outcome (for tests and logs).</summary>
    public long KvTransferCount(string connector, string outcome) => _kvTransfers.GetValueOrDefault((connector, outcome));

    /// <summary>Renders every metric in the Prometheus text exposition format 0.0.4.</summary>
    public string Render()
    {
        var text = new StringBuilder(8192);
        Gauge(text, "vllm:num_requests_running", "Number of requests in model execution batches.", _scheduler.Running);
        Gauge(text, "vllm:num_requests_waiting", "Number of requests waiting to be processed.", _scheduler.Waiting);
        var usage = _scheduler.KvUsage;
        Gauge(text, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", usage);
        Gauge(text, "vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage (pre-v0.10 name).", usage);
        Counter(text, "vllm:prompt_tokens_total", "Number of prefill tokens processed.", Interlocked.Read(ref _promptTokens));
        Counter(text, "vllm:generation_tokens_total", "Number of generation tokens processed.", Interlocked.Read(ref _generationTokens));
        Counter(text, "vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", PrefixCacheQueries);
        Counter(text, "vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", PrefixCacheHits);

        text.Append("# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n");
        foreach (var reason in new[] { "stop", "length", "abort" })
        {
            text.Append("vllm:request_success_total{").Append(_labels).Append(",finished_reason=\"").Append(reason).Append("\"} ")
                .Append(_finished.GetValueOrDefault(reason)).Append('\n');
        }

        TimeToFirstToken.WriteTo(text, _labels);
        TimePerOutputToken.WriteTo(text, _labels);
        E2eLatency.WriteTo(text, _labels);
        QueueTime.WriteTo(text, _labels);
        PrefillTime.WriteTo(text, _labels);
        DecodeTime.WriteTo(text, _labels);

        KvCounter(text, "pdsim:kv_transfers_produced_total", "KV caches this instance computed and handed to its connector.", "produced");
        KvCounter(text, "pdsim:kv_transfer_hits_total", "Requests whose transferred KV was found (prefill skipped).", "hit");
        KvCounter(text, "pdsim:kv_transfer_misses_total", "Requests that expected transferred KV but had to prefill locally.", "miss");
        Counter(text, "pdsim:injected_failures_total", "Requests failed by --failure-injection-rate.", Interlocked.Read(ref _injectedFailures));
        return text.ToString();
    }

    private void Gauge(StringBuilder text, string name, string help, double value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" gauge\n");
        text.Append(name).Append('{').Append(_labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private void Counter(StringBuilder text, string name, string help, long value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" counter\n");
        text.Append(name).Append('{').Append(_labels).Append("} ").Append(value).Append('\n');
    }

    private void KvCounter(StringBuilder text, string name, string help, string outcome)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" counter\n");
        foreach (var ((connector, kind), value) in _kvTransfers.OrderBy(pair => pair.Key.Connector, StringComparer.Ordinal))
        {
            if (kind == outcome)
            {
                text.Append(name).Append('{').Append(_labels).Append(",connector=\"").Append(Escape(connector)).Append("\"} ").Append(value).Append('\n');
            }
        }
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
