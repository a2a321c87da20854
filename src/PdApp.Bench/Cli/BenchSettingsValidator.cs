using System.CommandLine;
using System.CommandLine.Parsing;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Bench.Cli;

/// <summary>
/// Rules that involve several options, run by System.CommandLine after parsing so their errors
/// are printed like its own, each naming the options at fault. Single-option ranges are in
/// <see cref="OptionRules"/>.
/// </summary>
internal static class BenchSettingsValidator
{
    /// <summary>Attaches the single-option rules to <paramref name="options"/>.</summary>
    public static void AddOptionRules(BenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OptionRules.AtLeast(options.InputLen, 1);
        OptionRules.AtLeast(options.OutputLen, 1);
        OptionRules.InRange(options.RangeRatio, 0, 1);
        OptionRules.AtLeast(options.PrefixLen, 0);
        OptionRules.AtLeast(options.PrefixGroups, 1);
        OptionRules.InRange(options.PrefixSkew, 0, double.PositiveInfinity);
        OptionRules.InRange(options.Burstiness, double.Epsilon, double.PositiveInfinity);
        OptionRules.AtLeast(options.MaxConcurrency, 1);
        OptionRules.AtLeast(options.NumPrompts, 1);
        OptionRules.AtLeast(options.Warmup, 0);
        OptionRules.Positive(options.SloTtftMs);
        OptionRules.Positive(options.SloTpotMs);
        OptionRules.Extension(options.Plot, ".svg", ".png");
        OptionRules.Extension(options.OutputJson, ".json");
    }

    /// <summary>Adds an error to <paramref name="result"/> for each broken cross-option rule.</summary>
    public static void Validate(CommandResult result, BenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        if (Given(result, options.BaseUrl) == Given(result, options.PdDirect))
        {
            result.AddError("Give exactly one of --base-url <url> or --pd-direct <prefill url> <decode url>.");
        }

        if (Given(result, options.Connector))
        {
            ValidateConnector(result, options);
        }

        if (Given(result, options.CompareMode) && !Given(result, options.Compare))
        {
            result.AddError("--compare-mode needs --compare <second base url>.");
        }

        if (Given(result, options.Stream) && Given(result, options.NoStream))
        {
            result.AddError("--stream and --no-stream cannot be used together.");
        }

        var dataset = Given(result, options.Dataset) ? ValueOrDefault(result, options.Dataset) : "random";
        if (dataset is "jsonl" or "sharegpt")
        {
            if (ValueOrDefault(result, options.DatasetPath) is not { } path)
            {
                result.AddError($"--dataset-path is required with --dataset {dataset}.");
            }
            else if (!path.Exists)
            {
                result.AddError($"--dataset-path: file '{path.FullName}' does not exist.");
            }
        }
        else if (Given(result, options.DatasetPath))
        {
            result.AddError("--dataset-path needs --dataset jsonl or --dataset sharegpt.");
        }

        if (Given(result, options.NumPrompts) && Given(result, options.Duration))
        {
            result.AddError("--num-prompts and --duration cannot be used together.");
        }

        var unlimitedRate = !Given(result, options.RequestRate) || double.IsPositiveInfinity(ValueOrDefault(result, options.RequestRate));
        if (Given(result, options.Duration) && unlimitedRate && !Given(result, options.MaxConcurrency))
        {
            result.AddError("--duration with an unlimited --request-rate needs --max-concurrency (otherwise requests would pile up without bound).");
        }
    }

    /// <summary>
    /// The connector <c>--connector</c> names (a MultiConnector followed by its children), by default
    /// the app host's default, SharedStorageConnector; null when the names do not resolve.
    /// </summary>
    public static ResolvedConnector? ResolveConnector(string[]? names)
    {
        names = names is { Length: > 0 } ? names : [KvConnectorNames.SharedStorage];
        return ConnectorCatalog.TryResolve(names[0], names[1..], out var connector) ? connector : null;
    }

    private static void ValidateConnector(CommandResult result, BenchOptions options)
    {
        if (!Given(result, options.PdDirect))
        {
            result.AddError("--connector applies to --pd-direct <prefill url> <decode url> only.");
            return;
        }

        var names = ValueOrDefault(result, options.Connector) ?? [];
        if (ResolveConnector(names) is not { } connector)
        {
            result.AddError($"--connector '{string.Join(' ', names)}' is not a supported connector (a MultiConnector is followed by its children); use one of {string.Join(", ", ConnectorCatalog.Names)}.");
        }
        else if (connector.RequestIdNamesPeers)
        {
            result.AddError($"--connector {connector.Connector.Name}: --pd-direct cannot build its request ids, which name both peers' KV addresses; benchmark it through the proxy (--base-url).");
        }
        else if (names.Length > 1 && !connector.Connector.IsComposite)
        {
            result.AddError("--connector takes children only after MultiConnector.");
        }
    }

    private static bool Given(CommandResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>
    /// Reads a given option's value; a value that failed to convert has already produced its own
    /// error, so it reads as the default here instead of throwing.
    /// </summary>
    private static T? ValueOrDefault<T>(CommandResult result, Option<T> option)
    {
        if (result.GetResult(option) is not { } optionResult || optionResult.Errors.Any())
        {
            return default;
        }

        try
        {
            return optionResult.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }
}
