namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>What a <c>data:</c> line (one event) of a decode event stream carried.</summary>
public enum SseDataKind
{
    /// <summary>A completion chunk (one token with vLLM's default streaming).</summary>
    Chunk,

    /// <summary><c>data: [DONE]</c>.</summary>
    Done,

    /// <summary>An in-band error event, <c>data: {"error": ...}</c>.</summary>
    Error,

    /// <summary>
    /// The final usage chunk of <c>stream_options.include_usage</c>: empty <c>choices</c> and a
    /// <c>usage</c> object with a numeric <c>completion_tokens</c>. It carries no token.
    /// </summary>
    Usage,
}
