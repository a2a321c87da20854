using System.Text.Json.Nodes;

namespace PdApp.Simulator.Api;

/// <summary>A completion or chat request after validation.</summary>
internal sealed record CompletionRequest
{
    /// <summary>Endpoint.</summary>
    public required CompletionKind Kind { get; init; }

    /// <summary>The <c>model</c> field, if given.</summary>
    public string? Model { get; init; }

    /// <summary>Prompt token ids (chat: after the template).</summary>
    public required int[] PromptTokenIds { get; init; }

    /// <summary>The text the model continues: the prompt as sent (decoded when sent as ids), or the rendered chat template.</summary>
    public required string PromptText { get; init; }

    /// <summary><c>max_completion_tokens</c>, else <c>max_tokens</c>.</summary>
    public int? MaxTokens { get; init; }

    /// <summary><c>stop</c>.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary><c>seed</c>.</summary>
    public long? Seed { get; init; }

    /// <summary><c>stream</c>.</summary>
    public bool Stream { get; init; }

    /// <summary><c>stream_options.include_usage</c>.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary><c>kv_transfer_params</c>.</summary>
    public JsonObject? KvTransferParams { get; init; }
}
