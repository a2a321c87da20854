using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace PdApp.Simulator.Generation;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> of a byte-level BPE model (Qwen, Llama 3, DeepSeek
/// distills, GPT-2) into a <see cref="BpeTokenizer"/>: the vocabulary, the merges (either
/// serialization), the added tokens, the pre-tokenizer's split regex and the NFC normalizer. Other
/// models (SentencePiece byte-fallback, WordPiece, Unigram) are reported as unsupported.
/// </summary>
internal static class HuggingFaceTokenizerJson
{
    /// <summary>GPT-2's split pattern, what a <c>ByteLevel</c> pre-tokenizer with <c>use_regex</c> applies.</summary>
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>A loaded tokenizer, or null with the reason in <see cref="Detail"/>.</summary>
    /// <param name="Tokenizer">The tokenizer, when the file describes a supported model.</param>
    /// <param name="Detail">What was loaded (vocabulary size, pattern) or why it could not be.</param>
    public readonly record struct LoadResult(Tokenizer? Tokenizer, string Detail);

    /// <summary>Parses <paramref name="tokenizerJson"/>; never throws for an unsupported model, only for unreadable JSON.</summary>
    public static LoadResult TryLoad(Stream tokenizerJson)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);

        using var document = JsonDocument.Parse(tokenizerJson, new JsonDocumentOptions { MaxDepth = 16 });
        var root = document.RootElement;
        if (!root.TryGetProperty("model", out var model) || Text(model, "type") is not "BPE")
        {
            return Unsupported($"model type '{(model.ValueKind == JsonValueKind.Object ? Text(model, "type") : null) ?? "none"}' is not BPE");
        }

        if (model.TryGetProperty("byte_fallback", out var byteFallback) && byteFallback.ValueKind == JsonValueKind.True)
        {
            return Unsupported("SentencePiece byte-fallback BPE");
        }

        var split = SplitPattern(root.TryGetProperty("pre_tokenizer", out var pre) ? pre : default, out var problem);
        if (split is null)
        {
            return Unsupported(problem!);
        }

        var specialTokens = AddedTokens(root);
        var options = new BpeOptions(Vocabulary(model))
        {
            Merges = Merges(model),
            ByteLevel = true,
            SpecialTokens = specialTokens,
            PreTokenizer = new RegexPreTokenizer(new Regex(split, RegexOptions.Compiled | RegexOptions.CultureInvariant), specialTokens),
            Normalizer = NormalizerOf(root),
        };

        var tokenizer = BpeTokenizer.Create(options);
        return new LoadResult(tokenizer, $"{tokenizer.Vocabulary.Count} tokens, {specialTokens.Count} added");
    }

    private static LoadResult Unsupported(string why) => new(null, why);

    /// <summary>The split regex of a byte-level pre-tokenizer, or null with <paramref name="problem"/> set.</summary>
    private static string? SplitPattern(JsonElement preTokenizer, out string? problem)
    {
        problem = null;
        if (preTokenizer.ValueKind != JsonValueKind.Object)
        {
            problem = "no pre_tokenizer";
            return null;
        }

        IEnumerable<JsonElement> steps = Text(preTokenizer, "type") == "Sequence" && preTokenizer.TryGetProperty("pretokenizers", out var list)
            ? list.EnumerateArray()
            : [preTokenizer];

        string? pattern = null;
        var byteLevel = false;
        foreach (var step in steps)
        {
            switch (Text(step, "type"))
            {
                case "Split" when pattern is null && step.TryGetProperty("pattern", out var p) && p.TryGetProperty("Regex", out var regex):
                    pattern = regex.GetString();
                    break;
                case "ByteLevel":
                    byteLevel = true;
                    if (step.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind == JsonValueKind.True)
                    {
                        problem = "ByteLevel add_prefix_space is not supported";
                        return null;
                    }

                    if (pattern is null && (!step.TryGetProperty("use_regex", out var useRegex) || useRegex.ValueKind != JsonValueKind.False))
                    {
                        pattern = Gpt2Pattern;
                    }

                    break;
                case "Digits" or "Punctuation" or "Metaspace" or "Whitespace" or "WhitespaceSplit" or "Split":
                    problem = $"pre-tokenizer step '{Text(step, "type")}' is not supported";
                    return null;
            }
        }

        if (!byteLevel || pattern is null)
        {
            problem = "not a byte-level pre-tokenizer with a split regex";
            return null;
        }

        return pattern;
    }

    private static Dictionary<string, int> Vocabulary(JsonElement model)
    {
        var vocab = model.GetProperty("vocab");
        var result = new Dictionary<string, int>(capacity: 1 << 16, StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            result[entry.Name] = entry.Value.GetInt32();
        }

        return result;
    }

    /// <summary>Merges as "left right" lines; tokenizers &gt;= 0.20 writes them as two-element arrays.</summary>
    private static List<string> Merges(JsonElement model)
    {
        var merges = new List<string>();
        if (!model.TryGetProperty("merges", out var list))
        {
            return merges;
        }

        foreach (var merge in list.EnumerateArray())
        {
            merges.Add(merge.ValueKind == JsonValueKind.Array
                ? $"{merge[0].GetString()} {merge[1].GetString()}"
                : merge.GetString() ?? string.Empty);
        }

        return merges;
    }

    private static Dictionary<string, int> AddedTokens(JsonElement root)
    {
        var tokens = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                if (Text(token, "content") is { } content && token.TryGetProperty("id", out var id))
                {
                    tokens[content] = id.GetInt32();
                }
            }
        }

        return tokens;
    }

    private static Normalizer? NormalizerOf(JsonElement root) =>
        root.TryGetProperty("normalizer", out var normalizer) && Text(normalizer, "type") == "NFC" ? NfcNormalizer.Instance : null;

    private static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
