namespace PdApp.Bench.Workloads;

/// <summary>
/// Shape of the prefix-repetition dataset, with the flags of vLLM's <c>prefix_repetition</c>
/// dataset (<c>--prefix-repetition-prefix-len</c>, <c>-suffix-len</c>, <c>-num-prefixes</c>, <c>-output-len</c>).
/// </summary>
/// <param name="PrefixTokens">Tokens of each shared prefix (a long system prompt).</param>
/// <param name="SuffixTokens">Tokens of each request's own suffix.</param>
/// <param name="NumPrefixes">Distinct prefixes; requests are spread evenly over them.</param>
/// <param name="OutputTokens">Output tokens per request.</param>
internal sealed record PrefixRepetitionOptions(int PrefixTokens, int SuffixTokens, int NumPrefixes, int OutputTokens)
{
    /// <summary>vLLM's defaults (256, 256, 10, 128).</summary>
    public static PrefixRepetitionOptions Default { get; } = new(256, 256, 10, 128);
}
