using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdApp.Bench.Workloads;

/// <summary>
/// Conversations in ShareGPT format (a JSON array of <c>{"conversations": [{"from", "value"}, ...]}</c>,
/// e.g. ShareGPT_V3_unfiltered_cleaned_split.json). As vLLM's <c>ShareGPTDataset</c>: the first
/// turn is the prompt and the second the reference completion, whose length is the output length
/// unless one is fixed; entries are shuffled with the seed, too-short pairs (prompt or output
/// under 4 tokens) and too-long pairs (prompt over 1024 or total over 2048 tokens) are dropped.
/// The file is streamed, so multi-hundred-megabyte dumps load without holding the whole document.
/// </summary>
internal static class ShareGptDataset
{
    private const int MinTokens = 4;
    private const int MaxPromptTokens = 1024;
    private const int MaxTotalTokens = 2048;

    /// <summary>Loads up to <paramref name="count"/> prompts.</summary>
    /// <param name="path">The file.</param>
    /// <param name="fixedOutputTokens">Output length for every prompt, or null to use the reference completion's.</param>
    /// <param name="count">Prompts wanted.</param>
    /// <param name="seed">Shuffle seed.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="InvalidDataException">The file is not a ShareGPT array or has no usable conversation.</exception>
    public static async Task<IReadOnlyList<BenchRequest>> LoadAsync(
        string path,
        int? fixedOutputTokens,
        int count,
        int seed,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var candidates = new List<BenchRequest>();
        await using var stream = File.OpenRead(path);
        try
        {
            await foreach (var entry in JsonSerializer.DeserializeAsyncEnumerable<ShareGptEntry>(stream, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (entry?.Conversations is not { Count: >= 2 } turns)
                {
                    continue;
                }

                var prompt = turns[0].Value ?? string.Empty;
                var promptTokens = TokenEstimator.Estimate(prompt);
                var outputTokens = fixedOutputTokens ?? TokenEstimator.Estimate(turns[1].Value ?? string.Empty);
                if (IsUsable(promptTokens, outputTokens, fixedOutputTokens is not null))
                {
                    candidates.Add(new BenchRequest(prompt, promptTokens, outputTokens));
                }
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a ShareGPT JSON array ({e.Message}).", e);
        }

        if (candidates.Count == 0)
        {
            throw new InvalidDataException($"{path}: no usable conversations (each needs at least two turns).");
        }

        new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
        return candidates.Count > count ? candidates.GetRange(0, count) : candidates;
    }

    private static bool IsUsable(int promptTokens, int outputTokens, bool outputFixed)
    {
        if (promptTokens < MinTokens || (!outputFixed && outputTokens < MinTokens))
        {
            return false;
        }

        return promptTokens <= MaxPromptTokens && (outputFixed || promptTokens + outputTokens <= MaxTotalTokens);
    }

    private sealed record ShareGptEntry([property: JsonPropertyName("conversations")] List<ShareGptTurn>? Conversations);

    private sealed record ShareGptTurn(
        [property: JsonPropertyName("from")] string? From,
        [property: JsonPropertyName("value")] string? Value);
}
