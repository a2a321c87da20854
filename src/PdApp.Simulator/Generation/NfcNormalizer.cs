using System.Text;
using Microsoft.ML.Tokenizers;

namespace PdApp.Simulator.Generation;

/// <summary>Unicode NFC, the normalizer Qwen-family <c>tokenizer.json</c> files name.</summary>
internal sealed class NfcNormalizer : Normalizer
{
    /// <summary>The one instance (the normalizer holds no state).</summary>
    public static NfcNormalizer Instance { get; } = new();

    /// <inheritdoc />
    public override string Normalize(string original) =>
        string.IsNullOrEmpty(original) ? string.Empty : original.Normalize(NormalizationForm.FormC);

    /// <inheritdoc />
    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
