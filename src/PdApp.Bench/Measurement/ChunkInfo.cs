namespace PdApp.Bench.Measurement;

/// <summary>What one streamed chunk (or a whole non-streamed response) says.</summary>
/// <param name="HasOutput">It carries generated output: completion text, chat content, reasoning or tool calls.</param>
/// <param name="IsError">It is an error object (nested <c>{"error":{...}}</c> or flat <c>{"object":"error"}</c>).</param>
/// <param name="PromptTokens"><c>usage.prompt_tokens</c>, when present.</param>
/// <param name="CompletionTokens"><c>usage.completion_tokens</c>, when present.</param>
/// <param name="ErrorMessage">The error's message, when <paramref name="IsError"/>.</param>
internal readonly record struct ChunkInfo(
    bool HasOutput,
    bool IsError,
    int? PromptTokens,
    int? CompletionTokens,
    string? ErrorMessage);
