using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Bench.Cli;
using PdApp.Bench.Measurement;

namespace PdApp.Bench.Reporting;

/// <summary>
/// The JSON file vLLM's <c>vllm bench serve --save-result</c> writes, one per run (one target at
/// one concurrency level), with vLLM's keys so that tooling written for vLLM reads it:
/// the run's set-up (<c>date</c>, <c>backend</c>, <c>label</c>, <c>model_id</c>,
/// <c>num_prompts</c>, <c>request_rate</c> (<c>"inf"</c> when unlimited), <c>burstiness</c>,
/// <c>max_concurrency</c>), the totals and throughputs (<c>duration</c>, <c>completed</c>,
/// <c>failed</c>, <c>total_input_tokens</c>, <c>total_output_tokens</c>,
/// <c>request_throughput</c>, <c>request_goodput</c> (null without <c>--goodput</c>),
/// <c>output_throughput</c>, <c>total_token_throughput</c>), and for each metric of
/// <c>--percentile-metrics</c> <c>mean_X_ms</c>, <c>median_X_ms</c>, <c>std_X_ms</c> and one
/// <c>pP_X_ms</c> per percentile of <c>--metric-percentiles</c>. What vLLM has no key for
/// (target URLs, errors by kind, whether the run was aborted) is under <c>pdapp</c>.
/// </summary>
internal static class VllmResultFile
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    /// <summary>Builds the document of one run.</summary>
    /// <param name="settings">The invocation's settings (model resolved).</param>
    /// <param name="run">The run.</param>
    /// <param name="aborted">Whether the run's level was cut short.</param>
    /// <param name="date">When the invocation ran, local time (vLLM's <c>date</c>).</param>
    public static JsonObject Create(BenchSettings settings, RunResult run, bool aborted, DateTimeOffset date)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(run);
        var save = settings.SaveResult;
        var backend = save?.Backend ?? "openai";
        var document = new JsonObject
        {
            ["date"] = Date(date),
            ["endpoint_type"] = backend,
            ["backend"] = backend,
            ["label"] = run.DisplayName,
            ["model_id"] = settings.Shape.Model,
            ["tokenizer_id"] = settings.Shape.Model,
            ["num_prompts"] = settings.Plan.NumPrompts ?? run.Completed + run.Failed,
        };
        foreach (var (key, value) in save?.Metadata ?? [])
        {
            document[key] = value;
        }

        document["request_rate"] = double.IsPositiveInfinity(run.RequestRate) ? JsonValue.Create("inf") : JsonValue.Create(run.RequestRate);
        document["burstiness"] = settings.Plan.Burstiness;
        document["max_concurrency"] = run.MaxConcurrency;
        document["duration"] = run.Duration.TotalSeconds;
        document["completed"] = run.Completed;
        document["failed"] = run.Failed;
        document["total_input_tokens"] = run.InputTokens;
        document["total_output_tokens"] = run.OutputTokens;
        document["request_throughput"] = run.RequestThroughput;
        document["request_goodput"] = run.Goodput;
        document["output_throughput"] = run.OutputThroughput;
        document["total_token_throughput"] = run.TotalTokenThroughput;
        foreach (var metric in settings.Report.PercentileMetrics)
        {
            var summary = run.Of(metric);
            var key = metric.Key();
            document[$"mean_{key}_ms"] = summary.Mean;
            document[$"median_{key}_ms"] = summary.Median;
            document[$"std_{key}_ms"] = summary.Std;
            foreach (var percentile in settings.Report.MetricPercentiles)
            {
                document[$"p{PercentileWord(percentile)}_{key}_ms"] = summary.At(percentile) ?? 0;
            }
        }

        document["pdapp"] = new JsonObject
        {
            ["target"] = run.Target,
            ["endpoint"] = settings.Shape.Endpoint == Targets.EndpointKind.Chat ? BenchOptions.ChatPath : BenchOptions.CompletionsPath,
            ["stream"] = settings.Shape.Stream,
            ["dataset_name"] = settings.Dataset.Name,
            ["compare_mode"] = settings.Compare is null ? null : settings.CompareMode.ToString().ToLowerInvariant(),
            ["aborted"] = aborted,
            ["error_counts"] = new JsonObject(run.Errors.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value))),
        };
        return document;
    }

    /// <summary>Writes one file per run and returns their paths.</summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(BenchSettings settings, IReadOnlyList<LevelResult> levels, DateTimeOffset date, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(levels);
        var save = settings.SaveResult ?? throw new InvalidOperationException("--save-result was not given.");
        var runs = levels.SelectMany(level => level.Runs.Select(run => (Run: run, level.Aborted))).ToArray();
        var severalTargets = runs.Select(item => item.Run.DisplayName).Distinct(StringComparer.Ordinal).Count() > 1;
        var severalLevels = levels.Count > 1;
        var folder = save.Directory?.FullName ?? Directory.GetCurrentDirectory();
        Directory.CreateDirectory(folder);
        var paths = new List<string>();
        foreach (var (run, aborted) in runs)
        {
            var name = save.FileName is { } given
                ? WithSuffix(given, (severalTargets ? "-" + Sanitize(run.DisplayName) : string.Empty) + (severalLevels ? $"-concurrency{ResultTableWriter.Concurrency(run.MaxConcurrency)}" : string.Empty))
                : DefaultFileName(run, settings.Shape.Model, date);
            var path = Path.Combine(folder, name);
            await using (var stream = File.Create(path))
            {
                await JsonSerializer.SerializeAsync(stream, Create(settings, run, aborted, date), Compact, cancellationToken).ConfigureAwait(false);
            }

            paths.Add(path);
        }

        return paths;
    }

    /// <summary>vLLM's file name: <c>{label}-{rate}qps[-concurrency{n}]-{model}-{date}.json</c>.</summary>
    public static string DefaultFileName(RunResult run, string model, DateTimeOffset date)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(model);
        var concurrency = run.MaxConcurrency is { } limit ? $"-concurrency{limit.ToString(CultureInfo.InvariantCulture)}" : string.Empty;
        var baseModel = model.Split('/')[^1];
        return $"{Sanitize(run.DisplayName)}-{PythonFloat(run.RequestRate)}qps{concurrency}-{Sanitize(baseModel)}-{Date(date)}.json";
    }

    /// <summary>A percentile as vLLM writes it in a key: <c>99</c>, <c>99.9</c>.</summary>
    public static string PercentileWord(double percentile) =>
        percentile == Math.Floor(percentile) ? ((long)percentile).ToString(CultureInfo.InvariantCulture) : percentile.ToString("R", CultureInfo.InvariantCulture);

    private static string Date(DateTimeOffset date) => date.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);

    /// <summary>A rate as Python prints a float: <c>inf</c>, <c>10.0</c>, <c>2.5</c>.</summary>
    private static string PythonFloat(double value) =>
        double.IsPositiveInfinity(value) ? "inf"
        : value == Math.Floor(value) ? value.ToString("0.0", CultureInfo.InvariantCulture)
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string WithSuffix(string fileName, string suffix)
    {
        if (suffix.Length == 0)
        {
            return fileName;
        }

        var extension = Path.GetExtension(fileName);
        return extension.Length == 0 ? fileName + suffix : fileName[..^extension.Length] + suffix + extension;
    }

    /// <summary>Keeps letters, digits, dots, dashes and underscores; anything else becomes <c>_</c>.</summary>
    private static string Sanitize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }

        return builder.ToString();
    }
}
