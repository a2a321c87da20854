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
        ulong? affinityKey,
        int estimatedPromptTokens)
    {
        Route = route;
        Body = body;
        Document = document;
        Model = model;
        Stream = stream;
        AffinityKey = affinityKey;
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
    /// The prefix-affinity key: the stable hash of the rendered prompt's (all chat messages in order)
    /// first characters, as many as the prefix-affinity policy reads; null when no policy uses it.
    /// Hashed once at parse time, so no prompt text is held for the whole stream.
    /// </summary>
    public ulong? AffinityKey { get; }

    /// <summary>A cheap estimate of the prompt's token count (see <see cref="PromptAnalysis"/>).</summary>
    public int EstimatedPromptTokens { get; }

    /// <inheritdoc />
    public void Dispose() => Document.Dispose();
}
