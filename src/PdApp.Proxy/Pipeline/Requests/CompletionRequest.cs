using System.Text.Json;

namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>
/// A validated completion or chat request: the client's original bytes (sent to D unchanged
/// where the connector allows) and the facts the PD flow needs, parsed once.
/// </summary>
public sealed class CompletionRequest : IDisposable
{
    internal CompletionRequest(
        OpenAiRoute route,
        ReadOnlyMemory<byte> body,
        JsonDocument document,
        string? model,
        bool stream,
        string promptText,
        int estimatedPromptTokens)
    {
        Route = route;
        Body = body;
        Document = document;
        Model = model;
        Stream = stream;
        PromptText = promptText;
        EstimatedPromptTokens = estimatedPromptTokens;
    }

    /// <summary>Which route it came in on.</summary>
    public OpenAiRoute Route { get; }

    /// <summary>The client's body, exactly as received.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The parsed body (the root is a JSON object).</summary>
    public JsonDocument Document { get; }

    /// <summary>The requested model, or null when the client named none.</summary>
    public string? Model { get; }

    /// <summary>Whether the client asked for a server-sent event stream.</summary>
    public bool Stream { get; }

    /// <summary>
    /// The rendered prompt (all chat messages in order), as far as the prefix-affinity key reads it:
    /// the parser keeps only the characters it was asked for (none when no policy uses the key), so
    /// a long prompt is not held as text for the whole stream. Never logged at Information.
    /// </summary>
    public string PromptText { get; }

    /// <summary>A cheap estimate of the prompt's token count (see <see cref="PromptAnalysis"/>).</summary>
    public int EstimatedPromptTokens { get; }

    /// <inheritdoc />
    public void Dispose() => Document.Dispose();
}
