namespace PdApp.Bench.Workloads;

/// <summary>
/// Synthetic prompts of random words with lengths drawn uniformly from
/// <c>[len * (1 - range), len * (1 + range)]</c>, as vLLM's random dataset
/// (benchmarks/benchmark_dataset.py, <c>RandomDataset</c>) does with <c>--random-range-ratio</c>.
/// An optional shared prefix, chosen per request from a few prefix groups with Zipf-skewed
/// popularity, models chat system prompts and exercises prefix-affinity routing.
/// </summary>
internal static class RandomDataset
{
    /// <summary>Generates <paramref name="count"/> requests deterministically from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<BenchRequest> Generate(RandomDatasetOptions options, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var prefixes = Enumerable.Range(0, options.PrefixGroups)
            .Select(_ => options.PrefixTokens > 0 ? PromptVocabulary.RandomText(random, options.PrefixTokens) : string.Empty)
            .ToArray();
        var prefixWeights = ZipfWeights(options.PrefixGroups, options.PrefixSkew);

        var requests = new BenchRequest[count];
        for (var i = 0; i < count; i++)
        {
            var inputTokens = Sample(random, options.InputTokens, options.RangeRatio);
            var outputTokens = Math.Max(1, Sample(random, options.OutputTokens, options.RangeRatio));
            var prefix = prefixes[Pick(random, prefixWeights)];
            var body = PromptVocabulary.RandomText(random, inputTokens);
            var prompt = prefix.Length == 0 ? body : prefix + " " + body;
            requests[i] = new BenchRequest(prompt, options.PrefixTokens + inputTokens, outputTokens);
        }

        return requests;
    }

    /// <summary>Draws a length uniformly from <c>[floor(len * (1 - ratio)), ceil(len * (1 + ratio))]</c>, at least 1.</summary>
    public static int Sample(Random random, int length, double rangeRatio)
    {
        var low = Math.Max(1, (int)Math.Floor(length * (1 - rangeRatio)));
        var high = Math.Max(low, (int)Math.Ceiling(length * (1 + rangeRatio)));
        return random.Next(low, high + 1);
    }

    private static double[] ZipfWeights(int groups, double skew)
    {
        var weights = new double[groups];
        var total = 0.0;
        for (var i = 0; i < groups; i++)
        {
            weights[i] = 1.0 / Math.Pow(i + 1, skew);
            total += weights[i];
        }

        for (var i = 0; i < groups; i++)
        {
            weights[i] /= total;
        }

        return weights;
    }

    private static int Pick(Random random, double[] weights)
    {
        var draw = random.NextDouble();
        for (var i = 0; i < weights.Length - 1; i++)
        {
            draw -= weights[i];
            if (draw < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }
}
