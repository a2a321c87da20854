using Microsoft.ML.Tokenizers;

namespace PdApp.Simulator.Generation;

/// <summary>
/// Counts and encodes prompts with the GPT-2 BPE vocabulary, so every simulator instance (and the
/// tests) agree on a prompt's token ids: the KV connectors key transferred KV by them, as vLLM does.
/// </summary>
internal sealed class PromptTokenizer
{
    private readonly Tokenizer _tokenizer = TiktokenTokenizer.CreateForModel("gpt2");

    /// <summary>Encodes text to token ids.</summary>
    public int[] Encode(string text) => text.Length == 0 ? [] : [.. _tokenizer.EncodeToIds(text)];

    /// <summary>Decodes token ids (for prompts sent as ids).</summary>
    public string Decode(IReadOnlyList<int> ids) => _tokenizer.Decode(ids);
}
