using System.Diagnostics;
using System.Text.Json;

namespace PdApp.Bench.Measurement;

/// <summary>
/// Consumes an OpenAI-compatible SSE stream and times it from the client's side: the first
/// output chunk (TTFT) and every gap between output chunks (inter-token latency, reported to an
/// <see cref="IInterTokenObserver"/> as it happens).
/// </summary>
internal static class StreamTimingReader
{
    private static ReadOnlySpan<byte> Done => "[DONE]"u8;

    /// <summary>Reads <paramref name="body"/> to its end.</summary>
    /// <param name="body">The response body.</param>
    /// <param name="observer">Receives inter-token gaps; null to discard them.</param>
    /// <param name="timeProvider">Clock of the timestamps.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The timing.</returns>
    /// <exception cref="JsonException">A data event is not valid JSON.</exception>
    public static async Task<StreamTiming> ReadAsync(
        Stream body,
        IInterTokenObserver? observer,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        using var reader = new SseEventReader(body);
        long first = 0;
        long last = 0;
        var chunks = 0;
        int? promptTokens = null;
        int? completionTokens = null;

        while (await reader.ReadEventAsync(cancellationToken).ConfigureAwait(false))
        {
            var now = timeProvider.GetTimestamp();
            var data = reader.Data;
            if (data.SequenceEqual(Done))
            {
                return new StreamTiming(first, last, chunks, promptTokens, completionTokens, SawDone: true, ErrorMessage: null);
            }

            var chunk = ChunkInspector.Inspect(data);
            if (chunk.IsError)
            {
                return new StreamTiming(first, last, chunks, promptTokens, completionTokens, SawDone: false, chunk.ErrorMessage ?? "error");
            }

            promptTokens = chunk.PromptTokens ?? promptTokens;
            completionTokens = chunk.CompletionTokens ?? completionTokens;
            if (!chunk.HasOutput)
            {
                continue;
            }

            if (chunks == 0)
            {
                first = now;
            }
            else
            {
                observer?.OnInterTokenLatency(ToMicroseconds(now - last, timeProvider));
            }

            last = now;
            chunks++;
        }

        return new StreamTiming(first, last, chunks, promptTokens, completionTokens, SawDone: false, ErrorMessage: null);
    }

    /// <summary>Converts a timestamp difference to microseconds.</summary>
    public static long ToMicroseconds(long elapsedTicks, TimeProvider timeProvider) =>
        (long)(elapsedTicks * (1_000_000.0 / timeProvider.TimestampFrequency));
}
