using System.Diagnostics;

namespace PdApp.Tests.Proxy.Infrastructure;

/// <summary>Reads a server-sent event stream event by event, noting when each arrived.</summary>
public static class SseEvents
{
    /// <summary>Reads every <c>data:</c> payload of <paramref name="response"/>.</summary>
    /// <param name="response">A streaming response (read with ResponseHeadersRead).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The payloads with their arrival time since the call.</returns>
    public static async Task<List<(string Data, TimeSpan At)>> ReadAllAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var events = new List<(string, TimeSpan)>();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((line["data: ".Length..], clock.Elapsed));
            }
        }

        return events;
    }
}
