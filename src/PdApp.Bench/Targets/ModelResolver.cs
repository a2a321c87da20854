using System.Net.Http.Headers;
using System.Text.Json;

namespace PdApp.Bench.Targets;

/// <summary>
/// Finds the served model name when <c>--model</c> is not given: the first entry of
/// <c>GET /v1/models</c>, as vLLM's benchmark does when its <c>--model</c> is omitted.
/// </summary>
internal static class ModelResolver
{
    /// <summary>Asks <paramref name="baseUrl"/> for its models.</summary>
    /// <exception cref="InvalidOperationException">The server did not list a model.</exception>
    /// <exception cref="HttpRequestException">The server could not be reached.</exception>
    public static async Task<string> ResolveAsync(HttpClient http, Uri baseUrl, string? apiKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUrl);
        var path = baseUrl.AbsolutePath.TrimEnd('/');
        var url = new UriBuilder(baseUrl) { Path = (path.EndsWith("/v1", StringComparison.Ordinal) ? path : path + "/v1") + "/models" }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}; pass --model.");
        }

        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token).ConfigureAwait(false);
        if (document.RootElement.TryGetProperty("data", out var data)
            && data.ValueKind == JsonValueKind.Array
            && data.GetArrayLength() > 0
            && data[0].TryGetProperty("id", out var id)
            && id.GetString() is { Length: > 0 } model)
        {
            return model;
        }

        throw new InvalidOperationException($"GET {url} listed no model; pass --model.");
    }
}
