namespace PdApp.Bench.Workloads;

/// <summary>Shape of the random dataset.</summary>
/// <param name="InputTokens">Mean prompt length in tokens (after the shared prefix).</param>
/// <param name="OutputTokens">Mean output length in tokens.</param>
/// <param name="RangeRatio">Lengths are drawn uniformly within ± this fraction of the mean, in [0, 1).</param>
/// <param name="PrefixTokens">Length of the shared prefix in tokens (0 for none).</param>
/// <param name="PrefixGroups">Number of distinct shared prefixes.</param>
/// <param name="PrefixSkew">Zipf exponent of prefix popularity (0 = uniform; 1+ = a few hot prefixes).</param>
internal sealed record RandomDatasetOptions(
    int InputTokens,
    int OutputTokens,
    double RangeRatio,
    int PrefixTokens = 0,
    int PrefixGroups = 1,
    double PrefixSkew = 0);
