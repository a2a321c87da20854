using System.Text;

namespace PdApp.Bench.Workloads;

/// <summary>
/// Multi-turn chat conversations as a completions workload: each conversation opens with one of
/// <c>NumSystemPrompts</c> shared system prompts, and each turn's prompt is the previous turn's
/// prompt, the previous answer and a new user message
/// (<c>{system}\n\nUser: {message}\nAssistant: {answer}\n\nUser: {message}\nAssistant:</c>), so every
/// turn extends the previous one and an engine that served it holds all but its tail in its
/// prefix cache. <c>ActiveConversations</c> conversations run interleaved (rounds that visit every
/// slot once in a shuffled order, a finished conversation's slot starting a new one), which spaces a
/// conversation's turns about that many requests apart, as users' think time does. The workload is generated up front from the seed, like vLLM's datasets:
/// the previous answer is a synthetic one of <c>OutputTokens</c> words, not the text the server
/// returned (an engine's cache covers the previous prompt, then recomputes the answer's tokens once).
/// </summary>
internal static class MultiTurnDataset
{
    private const string UserTag = "\n\nUser:";
    private const string AssistantTag = "\nAssistant:";

    /// <summary>Tokens the two role tags add per turn (GPT-2 BPE: "\n\n", "User", ":", "\n", "Ass", "istant", ":").</summary>
    internal const int TagTokens = 7;

    /// <summary>Generates <paramref name="count"/> requests deterministically from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<BenchRequest> Generate(MultiTurnOptions options, int count, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Turns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NumSystemPrompts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ActiveConversations, 1);
        var random = new Random(seed);
        var systemPrompts = Enumerable.Range(0, options.NumSystemPrompts)
            .Select(_ => PromptVocabulary.RandomText(random, options.SystemPromptTokens))
            .ToArray();

        var slots = new Conversation?[options.ActiveConversations];
        var order = Enumerable.Range(0, slots.Length).ToArray();
        var requests = new List<BenchRequest>(count);
        while (requests.Count < count)
        {
            // Each round visits every conversation once, in a fresh order: turns stay about
            // ActiveConversations requests apart, and no fixed stride lines a conversation up with
            // a round-robin router's rotation.
            random.Shuffle(order);
            foreach (var slot in order)
            {
                if (requests.Count == count)
                {
                    break;
                }

                if (slots[slot] is not { } conversation || conversation.Turn == options.Turns)
                {
                    conversation = new Conversation(systemPrompts[random.Next(systemPrompts.Length)], options.SystemPromptTokens);
                    slots[slot] = conversation;
                }

                requests.Add(conversation.NextTurn(random, options));
            }
        }

        return requests;
    }

    private sealed class Conversation(string systemPrompt, int systemTokens)
    {
        private readonly StringBuilder _text = new(systemPrompt);
        private int _tokens = systemTokens;
        private string? _lastAnswer;

        public int Turn { get; private set; }

        public BenchRequest NextTurn(Random random, MultiTurnOptions options)
        {
            if (_lastAnswer is not null)
            {
                _text.Append(' ').Append(_lastAnswer);
                _tokens += options.OutputTokens;
            }

            _text.Append(UserTag).Append(' ').Append(PromptVocabulary.RandomText(random, options.UserTokens)).Append(AssistantTag);
            _tokens += options.UserTokens + TagTokens;
            _lastAnswer = PromptVocabulary.RandomText(random, options.OutputTokens);
            Turn++;
            return new BenchRequest(_text.ToString(), _tokens, options.OutputTokens);
        }
    }
}
