namespace PdApp.Bench.Workloads;

/// <summary>
/// Estimates token counts of text without the model's tokenizer: about four characters per
/// token for English under BPE tokenizers (OpenAI's rule of thumb). Only used to size outputs
/// of ShareGPT/JSONL prompts and to filter them; reported token counts come from the server's
/// <c>usage</c>.
/// </summary>
internal static class TokenEstimator
{
    /// <summary>Characters per token assumed.</summary>
    public const double CharactersPerToken = 4.0;

    /// <summary>Estimates the tokens in <paramref name="text"/> (at least 1 for non-empty text).</summary>
    public static int Estimate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 0 ? 0 : Math.Max(1, (int)Math.Ceiling(text.Length / CharactersPerToken));
    }
}
