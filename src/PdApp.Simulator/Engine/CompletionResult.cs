using System.Text.Json.Nodes;

namespace PdApp.Simulator.Engine;

/// <summary>How a completion ended.</summary>
/// <param name="FinishReason"><c>length</c> or <c>stop</c>.</param>
/// <param name="StopReason">The stop string matched, if that ended it.</param>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="CompletionTokens">Generated tokens.</param>
/// <param name="KvOutcome">One of <c>KvTransferOutcomes</c>.</param>
/// <param name="KvTransferParams">Top-level <c>kv_transfer_params</c> of the response (NIXL producer).</param>
internal sealed record CompletionResult(
    string FinishReason,
    string? StopReason,
    int PromptTokens,
    int CompletionTokens,
    string KvOutcome,
    JsonObject? KvTransferParams);
