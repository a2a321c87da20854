namespace PdApp.Bench.Workloads;

/// <summary>
/// Shared long prefixes across many users, as vLLM's <c>PrefixRepetitionRandomDataset</c>
/// (<c>vllm bench serve --dataset-name prefix_repetition</c>): <c>NumPrefixes</c> random prefixes of
/// <c>PrefixTokens</c> words, each request one of them followed by its own random suffix of
/// <c>SuffixTokens</c> words; requests are spread evenly over the prefixes (request i uses prefix
/// i mod NumPrefixes, so the counts differ by at most one where vLLM drops the remainder) and then
/// shuffled, all from the seed.
/// </summary>
internal static class PrefixRepetitionDataset
{
    /// <summary>Generates <paramref name="count"/> requests deterministically from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<BenchRequest> Generate(PrefixRepetitionOptions options, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NumPrefixes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SuffixTokens, 1);
        var random = new Random(seed);
        var prefixes = Enumerable.Range(0, options.NumPrefixes)
            .Select(_ => PromptVocabulary.RandomText(random, options.PrefixTokens))
            .ToArray();

        var requests = new BenchRequest[count];
        for (var i = 0; i < count; i++)
        {
            var prefix = prefixes[i % prefixes.Length];
            var suffix = PromptVocabulary.RandomText(random, options.SuffixTokens);
            var prompt = prefix.Length == 0 ? suffix : prefix + " " + suffix;
            requests[i] = new BenchRequest(prompt, options.PrefixTokens + options.SuffixTokens, options.OutputTokens);
        }

        random.Shuffle(requests);
        return requests;
    }
}
