using PdApp.Simulator.KvTransfer;

namespace PdApp.Simulator.Engine;

/// <summary>A validated request as the engine runs it.</summary>
internal sealed record CompletionJob
{
    /// <summary>Prompt token ids and the KV view of the request.</summary>
    public required KvRequest Kv { get; init; }

    /// <summary>Output limit asked for (<c>max_tokens</c> / <c>max_completion_tokens</c>), if any.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Room left in the context (<c>max_model_len</c> - prompt).</summary>
    public required int ContextRoom { get; init; }

    /// <summary>Stop strings.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>The text the model continues (the prompt as sent, or the rendered chat template): with the seed, it fixes the output.</summary>
    public required string ContextText { get; init; }

    /// <summary>The request's <c>seed</c>, or 0.</summary>
    public required ulong Seed { get; init; }

    /// <summary>When the request arrived (for queue time and TTFT).</summary>
    public required long ArrivalTimestamp { get; init; }
}
