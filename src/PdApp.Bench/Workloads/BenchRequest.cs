namespace PdApp.Bench.Workloads;

/// <summary>One prompt of a workload.</summary>
/// <param name="Prompt">The prompt text (sent as <c>prompt</c>, or as one user message on the chat endpoint).</param>
/// <param name="PromptTokens">The prompt's length in tokens as the dataset knows it (exact for random prompts, estimated otherwise); used when the server reports no usage.</param>
/// <param name="MaxTokens">Output tokens to ask for (<c>max_tokens</c> / <c>max_completion_tokens</c>).</param>
internal sealed record BenchRequest(string Prompt, int PromptTokens, int MaxTokens);
