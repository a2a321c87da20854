using System.Security.Cryptography;
using System.Runtime.InteropServices;

namespace PdApp.Simulator.Generation;

/// <summary>
/// Produces the simulated output: one word per token from a fixed vocabulary, chosen by a generator
/// seeded from the request's <c>seed</c> or, without one, from the prompt's token ids, so the same
/// request always yields the same text (what greedy decoding would do).
/// </summary>
internal static class TextGenerator
{
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

    /// <summary>Derives the default seed from the prompt's token ids.</summary>
    public static ulong SeedFromPrompt(ReadOnlySpan<int> promptTokenIds)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(promptTokenIds), hash);
        return BitConverter.ToUInt64(hash);
    }

    /// <summary>The text of output token <paramref name="index"/> (0-based) drawn from <paramref name="random"/>.</summary>
    public static string NextToken(ref DeterministicRandom random, int index)
    {
        var choice = random.Next(Vocabulary.Length);
        return index == 0 ? Vocabulary[choice] : SpacedVocabulary[choice];
    }

    /// <summary>
    /// The length a request without <c>max_tokens</c> ends at (its simulated end-of-sequence), between
    /// 8 and 64 tokens, capped by the room left in the context.
    /// </summary>
    public static int NaturalLength(ref DeterministicRandom random, int room) => Math.Max(1, Math.Min(room, 8 + random.Next(57)));
}
