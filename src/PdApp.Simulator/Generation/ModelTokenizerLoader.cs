using Microsoft.ML.Tokenizers;

namespace PdApp.Simulator.Generation;

/// <summary>
/// Chooses the tokenizer a simulator instance counts tokens with, as vLLM does from
/// <c>--tokenizer</c> (default: the model): the model directory's Hugging Face tokenizer files when
/// present, so token counts, KV block counts and usage match what real vLLM reports for that model;
/// otherwise GPT-2, the documented fallback (a model given by hub id, or a directory not on this machine).
/// </summary>
internal static class ModelTokenizerLoader
{
    /// <summary>The Hugging Face <c>tokenizers</c> file (vocabulary, merges, pre-tokenizer in one).</summary>
    public const string TokenizerJsonFile = "tokenizer.json";

    /// <summary>The byte-level BPE vocabulary of the older two-file layout.</summary>
    public const string VocabFile = "vocab.json";

    /// <summary>The byte-level BPE merges of the older two-file layout.</summary>
    public const string MergesFile = "merges.txt";

    /// <summary>Loads the tokenizer for <paramref name="tokenizerPath"/> (<c>--tokenizer</c>, else the model).</summary>
    /// <param name="tokenizerPath">A directory that may hold tokenizer files, or a hub id.</param>
    public static ModelTokenizer Load(string tokenizerPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenizerPath);

        if (!Directory.Exists(tokenizerPath))
        {
            return Fallback($"'{tokenizerPath}' is not a directory on this machine");
        }

        var tokenizerJson = Path.Combine(tokenizerPath, TokenizerJsonFile);
        if (File.Exists(tokenizerJson))
        {
            using var stream = File.OpenRead(tokenizerJson);
            var result = HuggingFaceTokenizerJson.TryLoad(stream);
            if (result.Tokenizer is { } tokenizer)
            {
                return new ModelTokenizer(tokenizer, $"byte-level BPE from {tokenizerJson} ({result.Detail})", IsFallback: false);
            }

            return Fallback($"{tokenizerJson} is not supported: {result.Detail}");
        }

        var vocab = Path.Combine(tokenizerPath, VocabFile);
        var merges = Path.Combine(tokenizerPath, MergesFile);
        if (File.Exists(vocab) && File.Exists(merges))
        {
            using var vocabStream = File.OpenRead(vocab);
            using var mergesStream = File.OpenRead(merges);
            var tokenizer = CodeGenTokenizer.Create(vocabStream, mergesStream, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
            return new ModelTokenizer(tokenizer, $"byte-level BPE from {vocab} and {merges}", IsFallback: false);
        }

        return Fallback($"'{tokenizerPath}' holds no {TokenizerJsonFile} (nor {VocabFile} + {MergesFile})");
    }

    /// <summary>GPT-2's BPE, used when the served model's tokenizer cannot be loaded.</summary>
    public static ModelTokenizer Fallback(string reason) =>
        new(TiktokenTokenizer.CreateForModel("gpt2"), $"GPT-2 (fallback: {reason}; token counts differ from the served model's)", IsFallback: true);
}
