using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Protocol;

namespace PdApp.Tests.Simulator;

/// <summary>Small HTTP helpers for the simulator tests.</summary>
internal static class SimulatorHttp
{
    public static HttpRequestMessage Post(string path, string json, string? requestId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (requestId is not null)
        {
            request.Headers.Add(PdHeaders.RequestId, requestId);
        }

        return request;
    }

    public static HttpRequestMessage Post(string path, JsonObject body, string? requestId = null) => Post(path, body.ToJsonString(), requestId);

    public static async Task<(HttpResponseMessage Response, JsonObject Body)> PostJsonAsync(this HttpClient client, string path, JsonObject body, string? requestId = null)
    {
        var response = await client.SendAsync(Post(path, body, requestId));
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonNode.Parse(text)!.AsObject());
    }

    public static string Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : string.Empty;

    /// <summary>Reads an SSE stream's data payloads with the time each arrived.</summary>
    public static async Task<List<(string Data, TimeSpan At)>> ReadEventsAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var events = new List<(string, TimeSpan)>();
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((line["data: ".Length..], started.Elapsed));
            }
        }

        return events;
    }

    public static JsonObject Completion(string prompt, int? maxTokens = 5, bool stream = false) => new()
    {
        ["model"] = "dp7b",
        ["prompt"] = prompt,
        ["max_tokens"] = maxTokens,
        ["stream"] = stream,
    };

    public static JsonObject Chat(string content, int? maxTokens = 5, bool stream = false) => new()
    {
        ["model"] = "dp7b",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
        ["max_tokens"] = maxTokens,
        ["stream"] = stream,
    };

    public static async Task<string> MetricsAsync(this HttpClient client) => await client.GetStringAsync("/metrics");

    /// <summary>The value of a metric sample line starting with <paramref name="prefix"/> (name and labels).</summary>
    public static double Metric(string metrics, string prefix)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new Xunit.Sdk.XunitException($"metric {prefix} not found in:\n{metrics}");
    }

    public static MediaTypeHeaderValue? ContentType(this HttpResponseMessage response) => response.Content.Headers.ContentType;

    public static JsonElement ParseElement(string json) => JsonDocument.Parse(json).RootElement;
}
