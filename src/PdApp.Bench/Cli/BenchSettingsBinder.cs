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

    /// <summary>Binds the settings.</summary>
    public static BenchSettings Bind(ParseResult parse, BenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(options);
        var pdDirect = parse.GetValue(options.PdDirect) is { Length: 2 } pair ? (pair[0], pair[1]) : ((Uri, Uri)?)null;
        var numPrompts = parse.GetValue(options.NumPrompts);
        var duration = parse.GetValue(options.Duration);
        var outputOverride = parse.GetValue(options.OutputLen);
        var seed = parse.GetValue(options.Seed);
        var levels = parse.GetValue(options.MaxConcurrency) is { Length: > 0 } values
            ? values.Select(value => (int?)value).ToArray()
            : [null];

        return new BenchSettings
        {
            Primary = new TargetSpec(
                pdDirect is null ? parse.GetValue(options.BaseUrl) : null,
                pdDirect,
                pdDirect is null ? null : BenchSettingsValidator.ResolveConnector(parse.GetValue(options.Connector))),
            Compare = parse.GetValue(options.Compare),
            CompareMode = parse.GetValue(options.CompareMode) == "sequential" ? CompareMode.Sequential : CompareMode.Interleaved,
            Shape = new RequestShape(
                BenchOptions.ToEndpoint(parse.GetValue(options.Endpoint)!),
                parse.GetValue(options.Model) ?? string.Empty,
                Stream: !parse.GetValue(options.NoStream),
                IgnoreEos: parse.GetValue(options.IgnoreEos),
                ApiKey: ApiKey(parse.GetValue(options.ApiKey)),
                Timeout: parse.GetValue(options.Timeout) ?? DefaultTimeout),
            Dataset = new DatasetSpec(
                BenchOptions.ToDataset(parse.GetValue(options.Dataset)!),
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
                Seed: seed),
            ConcurrencyLevels = levels,
            Plan = new LoadPlan(
                parse.GetValue(options.RequestRate),
                MaxConcurrency: levels[0],
                NumPrompts: duration is null ? numPrompts ?? DefaultNumPrompts : null,
                Duration: duration,
                Warmup: parse.GetValue(options.Warmup),
                Seed: seed,
                Burstiness: parse.GetValue(options.Burstiness)),
            Slo = new SloSettings(parse.GetValue(options.SloTtftMs), parse.GetValue(options.SloTpotMs)),
            OutputJson = parse.GetValue(options.OutputJson),
            Plot = parse.GetValue(options.Plot),
            ShowProgress = !parse.GetValue(options.NoProgress),
        };
    }
}
