using System.Text.Json;
using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// What vLLM sends for a mid-stream failure, and so what the client gets when a decode breaks off
/// and the request does not move: an in-band <c>data: {"error": ...}</c> event, then <c>data: [DONE]</c>.
/// </summary>
internal static class SseErrorTrailer
{
    /// <summary>The trailer bytes.</summary>
    /// <param name="status">The error's code (502 broken, 504 silent).</param>
    /// <param name="message">The error's message.</param>
    /// <param name="closeCutEvent">Whether an event was cut in half and must be closed first.</param>
    /// <returns>The bytes.</returns>
    public static byte[] Create(int status, string message, bool closeCutEvent = false)
    {
        var error = JsonSerializer.SerializeToUtf8Bytes(
            OpenAiErrorWriter.Create(status, OpenAiErrorTypes.ServiceUnavailable, message),
            ProxyJson.Options);
        using var trailer = new MemoryStream();
        if (closeCutEvent)
        {
            trailer.Write(SseFormat.EventTerminator.Span);
        }

        trailer.Write(SseFormat.DataPrefix.Span);
        trailer.Write(error);
        trailer.Write(SseFormat.EventTerminator.Span);
        trailer.Write(SseFormat.DoneEvent.Span);
        return trailer.ToArray();
    }
}
