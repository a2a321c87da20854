using Microsoft.ML.Tokenizers;
using PdApp.Simulator.Configuration;

namespace PdApp.Simulator.Generation;

/// <summary>
/// Counts and encodes prompts with the served model's tokenizer (see <see cref="ModelTokenizerLoader"/>),
/// so every simulator instance (and the tests) agree on a prompt's token ids: the KV connectors key
/// transferred KV by them, as vLLM does.
/// </summary>
internal sealed class PromptTokenizer
{
    private readonly Tokenizer _tokenizer;

    /// <summary>Loads the tokenizer of <c>--tokenizer</c>, else of the model, else GPT-2.</summary>
    public PromptTokenizer(SimulatorOptions options)
        : this(ModelTokenizerLoader.Load((options ?? throw new ArgumentNullException(nameof(options))).Tokenizer ?? options.Model))
    {
    }

    /// <summary>Wraps an already loaded tokenizer.</summary>
    public PromptTokenizer(ModelTokenizer loaded)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        _tokenizer = loaded.Tokenizer;
        Source = loaded;
    }

    /// <summary>Which tokenizer this is, for the start-up log.</summary>
    public ModelTokenizer Source { get; }

    /// <summary>Encodes text to token ids.</summary>
    public int[] Encode(string text) => text.Length == 0 ? [] : [.. _tokenizer.EncodeToIds(text)];

    /// <summary>Decodes token ids (for prompts sent as ids).</summary>
    public string Decode(IReadOnlyList<int> ids) => _tokenizer.Decode(ids);
}
