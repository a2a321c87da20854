using System.CommandLine;
using PdApp.Bench.Load;
using PdApp.Bench.Measurement;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Cli;

/// <summary>Turns a parse result that passed validation into <see cref="BenchSettings"/>.</summary>
internal static class BenchSettingsBinder
{
    /// <summary>Default request count, as vLLM's benchmark.</summary>
    public const int DefaultNumPrompts = 1000;

    /// <summary>Default output length of synthetic prompts.</summary>
    public const int DefaultOutputTokens = 128;

    /// <summary>Default per-request timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The key given on the command line, else <c>OPENAI_API_KEY</c>, else none.</summary>
    private static string? ApiKey(string? given)
    {
        var key = string.IsNullOrEmpty(given) ? Environment.GetEnvironmentVariable("OPENAI_API_KEY") : given;
        return string.IsNullOrEmpty(key) ? null : key;
    }

    /// <summary><c>--goodput</c> merged with <c>--slo-ttft-ms</c> and <c>--slo-tpot-ms</c> (the validator rejects both for one metric).</summary>
    private static SloSettings Slo(ParseResult parse, BenchOptions options)
    {
        var goodput = parse.GetValue(options.Goodput) ?? SloSettings.None;
        return goodput with
        {
            TtftMilliseconds = goodput.TtftMilliseconds ?? parse.GetValue(options.SloTtftMs),
            TpotMilliseconds = goodput.TpotMilliseconds ?? parse.GetValue(options.SloTpotMs),
        };
    }

    private static ResultFileSettings? SaveResult(ParseResult parse, BenchOptions options, EndpointKind endpoint)
    {
        var directory = parse.GetValue(options.ResultDir);
        var fileName = parse.GetValue(options.ResultFilename);
        if (!parse.GetValue(options.SaveResult) && directory is null && fileName is null)
        {
            return null;
        }

        var metadata = (parse.GetValue(options.Metadata) ?? [])
            .Select(pair => pair.Split('=', 2))
            .Select(parts => KeyValuePair.Create(parts[0].Trim(), parts[1].Trim()))
            .ToArray();
        var backend = parse.GetValue(options.Backend) ?? (endpoint == EndpointKind.Chat ? "openai-chat" : "openai");
        return new ResultFileSettings(directory, string.IsNullOrWhiteSpace(fileName) ? null : fileName, parse.GetValue(options.Label), backend, metadata);
    }

    /// <summary>Binds the settings.</summary>
    public static BenchSettings Bind(ParseResult parse, BenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(options);
        var pdDirect = parse.GetValue(options.PdDirect) is { Length: 2 } pair ? (pair[0], pair[1]) : ((Uri, Uri)?)null;
        var numPrompts = parse.GetValue(options.NumPrompts);
        var duration = parse.GetValue(options.Duration);
        var datasetKind = BenchOptions.ToDataset(parse.GetValue(options.Dataset)!);
        var specificOutput = datasetKind switch
        {
            DatasetKind.Random => parse.GetValue(options.RandomOutputLen),
            DatasetKind.ShareGpt => parse.GetValue(options.ShareGptOutputLen),
            DatasetKind.PrefixRepetition => parse.GetValue(options.PrefixRepetitionOutputLen),
            DatasetKind.MultiTurn => parse.GetValue(options.MultiTurnOutputLen),
            _ => parse.GetValue(options.CustomOutputLen),
        };
        var outputOverride = specificOutput ?? parse.GetValue(options.OutputLen);
        var endpoint = BenchOptions.ToEndpoint(parse.GetValue(options.Endpoint), parse.GetValue(options.Backend));
        var primary = new TargetSpec(
            pdDirect is null ? parse.GetValue(options.BaseUrl) : null,
            pdDirect,
            pdDirect is null ? null : BenchSettingsValidator.ResolveConnector(parse.GetValue(options.Connector)));
        var compare = parse.GetValue(options.Compare);
        var seed = parse.GetValue(options.Seed);
        var levels = parse.GetValue(options.MaxConcurrency) is { Length: > 0 } values
            ? values.Select(value => (int?)value).ToArray()
            : [null];

        return new BenchSettings
        {
            Primary = primary,
            Compare = compare,
            Labels = TargetLabels.Create(primary, parse.GetValue(options.Label), compare, parse.GetValue(options.CompareLabel)),
            CompareMode = parse.GetValue(options.CompareMode) == "sequential" ? CompareMode.Sequential : CompareMode.Interleaved,
            Shape = new RequestShape(
                endpoint,
                parse.GetValue(options.Model) ?? string.Empty,
                Stream: !parse.GetValue(options.NoStream),
                IgnoreEos: parse.GetValue(options.IgnoreEos),
                ApiKey: ApiKey(parse.GetValue(options.ApiKey)),
                Timeout: parse.GetValue(options.Timeout) ?? DefaultTimeout),
            Dataset = new DatasetSpec(
                datasetKind,
                parse.GetValue(options.DatasetPath)?.FullName,
                new RandomDatasetOptions(
                    parse.GetValue(options.InputLen),
                    outputOverride ?? DefaultOutputTokens,
                    parse.GetValue(options.RangeRatio),
                    parse.GetValue(options.PrefixLen),
                    parse.GetValue(options.PrefixGroups),
                    parse.GetValue(options.PrefixSkew)),
                outputOverride,
                Count: numPrompts ?? DefaultNumPrompts,
                Seed: seed,
                new PrefixRepetitionOptions(
                    parse.GetValue(options.PrefixRepetitionPrefixLen),
                    parse.GetValue(options.PrefixRepetitionSuffixLen),
                    parse.GetValue(options.PrefixRepetitionNumPrefixes),
                    outputOverride ?? PrefixRepetitionOptions.Default.OutputTokens),
                new MultiTurnOptions(
                    parse.GetValue(options.MultiTurnTurns),
                    parse.GetValue(options.MultiTurnSystemPromptLen),
                    parse.GetValue(options.MultiTurnNumSystemPrompts),
                    parse.GetValue(options.MultiTurnUserLen),
                    outputOverride ?? MultiTurnOptions.Default.OutputTokens,
                    parse.GetValue(options.MultiTurnActiveConversations)),
                Offset: parse.GetValue(options.PromptOffset)),
            ConcurrencyLevels = levels,
            Plan = new LoadPlan(
                parse.GetValue(options.RequestRate),
                MaxConcurrency: levels[0],
                NumPrompts: duration is null ? numPrompts ?? DefaultNumPrompts : null,
                Duration: duration,
                Warmup: parse.GetValue(options.Warmup),
                Seed: seed,
                Burstiness: parse.GetValue(options.Burstiness)),
            Slo = Slo(parse, options),
            Report = new ReportSettings(
                parse.GetValue(options.PercentileMetrics) is { Length: > 0 } metrics ? metrics : ReportSettings.Default.PercentileMetrics,
                parse.GetValue(options.MetricPercentiles) is { Length: > 0 } percentiles ? percentiles : ReportSettings.Default.MetricPercentiles),
            SaveResult = SaveResult(parse, options, endpoint),
            ReadyCheckTimeout = TimeSpan.FromSeconds(parse.GetValue(options.ReadyCheckTimeoutSec)),
            OutputJson = parse.GetValue(options.OutputJson),
            Plot = parse.GetValue(options.Plot),
            ShowProgress = !parse.GetValue(options.NoProgress),
        };
    }
}
