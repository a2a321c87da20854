using System.Text;

namespace PdApp.Bench.Workloads;

/// <summary>
/// Words that are one token each, with their leading space, in GPT-2/Llama-style BPE
/// vocabularies. vLLM's random dataset samples token ids and decodes them with the model's
/// tokenizer; without the tokenizer we build prompts from these words so a prompt of N words is
/// close to N tokens on common tokenizers and on the simulator.
/// </summary>
internal static class PromptVocabulary
{
    /// <summary>The words.</summary>
    public static IReadOnlyList<string> Words { get; } =
    [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
        "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
        "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when",
        "will", "would", "who", "so", "no", "time", "people", "year", "way", "day", "man", "thing", "world",
        "life", "hand", "part", "child", "eye", "place", "work", "week", "case", "point", "number", "group",
        "problem", "fact", "good", "new", "first", "last", "long", "great", "little", "own", "other", "old",
        "right", "big", "high", "small", "large", "next", "early", "young", "important", "few", "public",
        "same", "able", "water", "house", "light", "music", "model", "system", "data", "token", "cache",
    ];

    /// <summary><paramref name="count"/> words drawn with <paramref name="random"/>, separated by single spaces (about one token each).</summary>
    public static string RandomText(Random random, int count)
    {
        ArgumentNullException.ThrowIfNull(random);
        var words = Words;
        var builder = new StringBuilder(count * 6);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                builder.Append(' ');
            }

            builder.Append(words[random.Next(words.Count)]);
        }

        return builder.ToString();
    }
}
