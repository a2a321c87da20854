namespace PdApp.Bench.Measurement;

/// <summary>What the client saw of one streamed response.</summary>
/// <param name="FirstOutputTimestamp"><see cref="System.Diagnostics.Stopwatch"/> timestamp of the first chunk with output, or 0.</param>
/// <param name="LastOutputTimestamp">Timestamp of the last chunk with output, or 0.</param>
/// <param name="OutputChunks">Chunks that carried output.</param>
/// <param name="PromptTokens"><c>usage.prompt_tokens</c> of the last usage seen.</param>
/// <param name="CompletionTokens"><c>usage.completion_tokens</c> of the last usage seen.</param>
/// <param name="SawDone">The stream ended with <c>data: [DONE]</c>.</param>
/// <param name="ErrorMessage">The message of an in-band error event, or null.</param>
internal readonly record struct StreamTiming(
    long FirstOutputTimestamp,
    long LastOutputTimestamp,
    int OutputChunks,
    int? PromptTokens,
    int? CompletionTokens,
    bool SawDone,
    string? ErrorMessage);
