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
        OptionRules.AtLeast(options.RandomOutputLen, 1);
        OptionRules.AtLeast(options.ShareGptOutputLen, 1);
        OptionRules.AtLeast(options.CustomOutputLen, 1);
        OptionRules.AtLeast(options.ReadyCheckTimeoutSec, 0);
        OptionRules.InRange(options.RangeRatio, 0, 1);
        OptionRules.AtLeast(options.PrefixLen, 0);
        OptionRules.AtLeast(options.PrefixGroups, 1);
        OptionRules.InRange(options.PrefixSkew, 0, double.PositiveInfinity);
        OptionRules.AtLeast(options.PromptOffset, 0);
        OptionRules.AtLeast(options.PrefixRepetitionPrefixLen, 0);
        OptionRules.AtLeast(options.PrefixRepetitionSuffixLen, 1);
        OptionRules.AtLeast(options.PrefixRepetitionNumPrefixes, 1);
        OptionRules.AtLeast(options.PrefixRepetitionOutputLen, 1);
        OptionRules.AtLeast(options.MultiTurnTurns, 1);
        OptionRules.AtLeast(options.MultiTurnSystemPromptLen, 0);
        OptionRules.AtLeast(options.MultiTurnNumSystemPrompts, 1);
        OptionRules.AtLeast(options.MultiTurnUserLen, 1);
        OptionRules.AtLeast(options.MultiTurnOutputLen, 1);
        OptionRules.AtLeast(options.MultiTurnActiveConversations, 1);
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

        if (Given(result, options.CompareLabel) && !Given(result, options.Compare))
        {
            result.AddError("--compare-label needs --compare <second base url>.");
        }

        var dataset = Given(result, options.Dataset) ? ValueOrDefault(result, options.Dataset) : "random";
        ValidateOutputLength(result, options, dataset);
        ValidateGoodput(result, options);
        ValidateEndpoint(result, options);
        foreach (var item in Given(result, options.Metadata) ? ValueOrDefault(result, options.Metadata) ?? [] : [])
        {
            if (item.Split('=', 2) is not [{ Length: > 0 } key, _] || key.Trim().Length == 0)
            {
                result.AddError($"--metadata: '{item}' is not KEY=VALUE.");
            }
        }

        if (dataset is "jsonl" or "custom" or "sharegpt")
        {
            if (ValueOrDefault(result, options.DatasetPath) is not { } path)
            {
                result.AddError($"--dataset-path is required with --dataset-name {dataset}.");
            }
            else if (!path.Exists)
            {
                result.AddError($"--dataset-path: file '{path.FullName}' does not exist.");
            }
        }
        else if (Given(result, options.DatasetPath))
        {
            result.AddError("--dataset-path needs --dataset-name sharegpt, custom or jsonl.");
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

    /// <summary>The output length of the dataset in use, given twice (its own option and <c>--output-len</c>).</summary>
    private static void ValidateOutputLength(CommandResult result, BenchOptions options, string? dataset)
    {
        var specific = dataset switch
        {
            "sharegpt" => options.ShareGptOutputLen,
            "jsonl" or "custom" => options.CustomOutputLen,
            BenchOptions.PrefixRepetitionName => options.PrefixRepetitionOutputLen,
            BenchOptions.MultiTurnName => options.MultiTurnOutputLen,
            _ => options.RandomOutputLen,
        };
        if (Given(result, specific) && Given(result, options.OutputLen))
        {
            result.AddError($"{specific.Name} and --output-len cannot be used together.");
        }
    }

    private static void ValidateGoodput(CommandResult result, BenchOptions options)
    {
        if (!Given(result, options.Goodput) || ValueOrDefault(result, options.Goodput) is not { } goodput)
        {
            return;
        }

        if (goodput.TtftMilliseconds is not null && Given(result, options.SloTtftMs))
        {
            result.AddError("--goodput ttft:... and --slo-ttft-ms cannot be used together.");
        }

        if (goodput.TpotMilliseconds is not null && Given(result, options.SloTpotMs))
        {
            result.AddError("--goodput tpot:... and --slo-tpot-ms cannot be used together.");
        }
    }

    private static void ValidateEndpoint(CommandResult result, BenchOptions options)
    {
        if (!Given(result, options.Backend) || !Given(result, options.Endpoint))
        {
            return;
        }

        var chatBackend = ValueOrDefault(result, options.Backend) == "openai-chat";
        var chatEndpoint = ValueOrDefault(result, options.Endpoint) is "chat" or BenchOptions.ChatPath;
        if (chatBackend != chatEndpoint)
        {
            result.AddError($"--backend {(chatBackend ? "openai-chat needs --endpoint " + BenchOptions.ChatPath : "openai/vllm needs --endpoint " + BenchOptions.CompletionsPath)}.");
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
        else if (connector.PrefillNotifiesProxy)
        {
            result.AddError($"--connector {connector.Connector.Name}: --pd-direct cannot name the receiver (kv_transfer_params.disagg_spec) nor hear the sender's KV-ready notification, so the KV would not move; benchmark it through the proxy (--base-url).");
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
