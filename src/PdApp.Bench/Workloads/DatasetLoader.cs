namespace PdApp.Bench.Workloads;

/// <summary>Which prompts to send.</summary>
internal enum DatasetKind
{
    /// <summary>Synthetic prompts of given lengths.</summary>
    Random,

    /// <summary>A JSON Lines file of prompts.</summary>
    Jsonl,

    /// <summary>A ShareGPT-format JSON file.</summary>
    ShareGpt,

    /// <summary>Shared long prefixes with per-request suffixes (vLLM's <c>prefix_repetition</c>).</summary>
    PrefixRepetition,

    /// <summary>Multi-turn conversations, each turn extending the previous prompt.</summary>
    MultiTurn,
}

/// <summary>Where a workload comes from, as the command line describes it.</summary>
/// <param name="Kind">The dataset kind.</param>
/// <param name="Path">The file for <see cref="DatasetKind.Jsonl"/> and <see cref="DatasetKind.ShareGpt"/>.</param>
/// <param name="Random">The shape of the random dataset.</param>
/// <param name="OutputTokensOverride">Output length set on the command line, or null.</param>
/// <param name="Count">Prompts to prepare.</param>
/// <param name="Seed">Seed of every random choice.</param>
/// <param name="PrefixRepetition">The shape of the prefix-repetition dataset (null: vLLM's defaults).</param>
/// <param name="MultiTurn">The shape of the multi-turn dataset (null: its defaults).</param>
/// <param name="Offset">Prompts of the generated datasets skipped (generated, then dropped), so runs with one seed can send fresh prompts.</param>
internal sealed record DatasetSpec(
    DatasetKind Kind,
    string? Path,
    RandomDatasetOptions Random,
    int? OutputTokensOverride,
    int Count,
    int Seed,
    PrefixRepetitionOptions? PrefixRepetition = null,
    MultiTurnOptions? MultiTurn = null,
    int Offset = 0)
{
    /// <summary>The dataset's name as <c>--dataset-name</c> spells it (vLLM's names where vLLM has the dataset).</summary>
    public string Name => Kind switch
    {
        DatasetKind.PrefixRepetition => "prefix_repetition",
        DatasetKind.MultiTurn => "multi_turn",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The output length every request asks for, or null when it varies per prompt (ShareGPT without an override).</summary>
    public int? FixedOutputTokens => OutputTokensOverride ?? Kind switch
    {
        DatasetKind.ShareGpt => null,
        DatasetKind.PrefixRepetition => (PrefixRepetition ?? PrefixRepetitionOptions.Default).OutputTokens,
        DatasetKind.MultiTurn => (MultiTurn ?? MultiTurnOptions.Default).OutputTokens,
        _ => Random.OutputTokens,
    };
}

/// <summary>Builds the workload a <see cref="DatasetSpec"/> describes.</summary>
internal static class DatasetLoader
{
    /// <summary>Loads the prompts.</summary>
    public static async Task<Workload> LoadAsync(DatasetSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var requests = spec.Kind switch
        {
            DatasetKind.Random => Skip(RandomDataset.Generate(spec.Random, spec.Count + spec.Offset, spec.Seed), spec.Offset),
            DatasetKind.Jsonl => await JsonlDataset.LoadAsync(spec.Path!, spec.OutputTokensOverride ?? spec.Random.OutputTokens, spec.Count, cancellationToken).ConfigureAwait(false),
            DatasetKind.PrefixRepetition => Skip(PrefixRepetitionDataset.Generate(spec.PrefixRepetition ?? PrefixRepetitionOptions.Default, spec.Count + spec.Offset, spec.Seed), spec.Offset),
            DatasetKind.MultiTurn => Skip(MultiTurnDataset.Generate(spec.MultiTurn ?? MultiTurnOptions.Default, spec.Count + spec.Offset, spec.Seed), spec.Offset),
            DatasetKind.ShareGpt => await ShareGptDataset.LoadAsync(spec.Path!, spec.OutputTokensOverride, spec.Count, spec.Seed, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown dataset kind."),
        };
        return new Workload(requests);
    }

    private static IReadOnlyList<BenchRequest> Skip(IReadOnlyList<BenchRequest> requests, int offset) =>
        offset == 0 ? requests : requests.Skip(offset).ToArray();
}
