namespace PdApp.Simulator.Generation;

/// <summary>
/// Produces the simulated output as greedy decoding would: the next token is a function of the
/// request's <c>seed</c> (0 when absent) and of the whole text before it (the prompt as sent, or the
/// rendered chat template, plus everything generated so far), never of how many tokens this request
/// has generated. So a request whose prompt is another request's prompt plus the first k tokens of
/// its output (a migrated stream's continuation: completions prompt concatenation, or a chat
/// assistant prefix with <c>continue_final_message</c>) generates exactly that output's remaining
/// tokens, and the same request always yields the same text. Each token is one word of a fixed
/// vocabulary, with a leading space unless the text before it is empty or ends in whitespace;
/// without <c>max_tokens</c> the text ends where the context says (about 1 in 36 tokens, at least
/// one token), a simulated end-of-sequence that a continuation reaches at the same place.
/// </summary>
/// <remarks>
/// The state is a 64-bit FNV-1a hash folded over the context's UTF-16 characters; each step mixes it
/// with the seed through the SplitMix64 finalizer. Folding is sequential, so hashing the prompt and
/// then each emitted token equals hashing their concatenation: the property continuation needs.
/// Held-back text (a partial stop string) is folded in when generated, so a continuation built from
/// text that was held back when the stream broke is not exact.
/// </remarks>
internal struct TextGenerator
{
    private const ulong FnvOffset = 0xCBF29CE484222325UL;
    private const ulong FnvPrime = 0x100000001B3UL;
    private const int EndOfSequenceOneIn = 36;

    private static readonly string[] Vocabulary =
    [
        "the", "model", "token", "cache", "prefill", "decode", "request", "server", "stream", "latency",
        "of", "and", "to", "a", "in", "is", "for", "that", "with", "on",
        "attention", "layer", "block", "batch", "engine", "worker", "queue", "memory", "transfer", "key",
        "value", "prompt", "output", "input", "sequence", "step", "time", "first", "next", "each",
        "fast", "slow", "large", "small", "simple", "quick", "careful", "steady", "bright", "quiet",
        "river", "mountain", "city", "garden", "window", "morning", "evening", "story", "answer", "question",
        "we", "it", "they", "this", "which", "when", "then", "so", "but", "also",
        "runs", "moves", "reads", "writes", "holds", "sends", "waits", "learns", "builds", "finds",
    ];

    // Precomputed so emitting a token allocates nothing.
    private static readonly string[] SpacedVocabulary = [.. Vocabulary.Select(word => " " + word)];

    private readonly ulong _seed;
    private ulong _hash;
    private bool _atWordStart;

    /// <summary>Starts generating after <paramref name="context"/>.</summary>
    /// <param name="context">The text the model continues: the prompt, or the rendered chat template.</param>
    /// <param name="seed">The request's <c>seed</c>, or 0.</param>
    public TextGenerator(string context, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(context);
        _seed = Mix(seed ^ 0x9E3779B97F4A7C15UL);
        _hash = FnvOffset;
        _atWordStart = true;
        Fold(context);
    }

    /// <summary>The next token's text, folded into the context.</summary>
    /// <returns>One word, with a leading space unless the context ends in whitespace or is empty.</returns>
    public string NextToken()
    {
        var choice = (int)(Mix(_hash ^ _seed) % (ulong)Vocabulary.Length);
        var token = _atWordStart ? Vocabulary[choice] : SpacedVocabulary[choice];
        Fold(token);
        return token;
    }

    /// <summary>Whether the sequence ends after the token just generated (only used without <c>max_tokens</c>).</summary>
    /// <returns>True at the simulated end-of-sequence.</returns>
    public readonly bool EndsHere() => Mix(_hash ^ _seed ^ 0xE05UL) % EndOfSequenceOneIn == 0;

    private void Fold(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        var hash = _hash;
        foreach (var c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        _hash = hash;
        _atWordStart = char.IsWhiteSpace(text[^1]);
    }

    // SplitMix64's finalizer: every input bit affects every output bit.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
