namespace PdApp.Bench.Workloads;

/// <summary>Shape of the multi-turn conversation dataset (<c>--dataset-name multi_turn</c>).</summary>
/// <param name="Turns">User turns per conversation.</param>
/// <param name="SystemPromptTokens">Tokens of the system prompt every conversation opens with.</param>
/// <param name="NumSystemPrompts">Distinct system prompts, each conversation picking one uniformly (many users share one).</param>
/// <param name="UserTokens">Tokens of each user message.</param>
/// <param name="OutputTokens">Output tokens per turn; the next turn carries an answer of this length.</param>
/// <param name="ActiveConversations">Conversations in progress at once: their turns are interleaved, so a conversation's next turn comes this many requests after its previous one.</param>
internal sealed record MultiTurnOptions(
    int Turns,
    int SystemPromptTokens,
    int NumSystemPrompts,
    int UserTokens,
    int OutputTokens,
    int ActiveConversations)
{
    /// <summary>Defaults: 5 turns, 4 system prompts of 1024 tokens, 64-token messages and answers, 32 active conversations.</summary>
    public static MultiTurnOptions Default { get; } = new(5, 1024, 4, 64, 64, 32);
}
