namespace PdApp.Protocol;

/// <summary>Byte sequences of the server-sent events OpenAI-compatible servers emit.</summary>
public static class SseFormat
{
    /// <summary>The media type of a stream.</summary>
    public const string ContentType = "text/event-stream";

    /// <summary><c>data: </c></summary>
    public static ReadOnlyMemory<byte> DataPrefix { get; } = "data: "u8.ToArray();

    /// <summary>The blank line that ends an event.</summary>
    public static ReadOnlyMemory<byte> EventTerminator { get; } = "\n\n"u8.ToArray();

    /// <summary><c>data: [DONE]</c> and its terminator: the last event of every stream.</summary>
    public static ReadOnlyMemory<byte> DoneEvent { get; } = "data: [DONE]\n\n"u8.ToArray();
}
