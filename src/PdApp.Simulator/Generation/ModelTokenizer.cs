using Microsoft.ML.Tokenizers;

namespace PdApp.Simulator.Generation;

/// <summary>A loaded tokenizer and a line saying where it came from (logged at start-up).</summary>
/// <param name="Tokenizer">The tokenizer that encodes prompts and decodes token ids.</param>
/// <param name="Description">Which tokenizer this is and why it was chosen, for the start-up log.</param>
/// <param name="IsFallback">Whether this is the GPT-2 fallback rather than the served model's own tokenizer.</param>
internal sealed record ModelTokenizer(Tokenizer Tokenizer, string Description, bool IsFallback);
