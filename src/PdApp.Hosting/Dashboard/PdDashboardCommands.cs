using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;

namespace PdApp.Hosting.Dashboard;

/// <summary>
/// What the dashboard's PD commands do: a test completion through the proxy, and drain / undrain
/// of an instance through the proxy's admin API (<c>POST /admin/instances/{name}/drain|undrain</c>
/// with <c>Authorization: Bearer &lt;Pd:AdminApiKey&gt;</c>). Results go to the resource's console
/// log in the dashboard and back to the command's notification.
/// </summary>
internal sealed class PdDashboardCommands(
    ProjectResource proxy,
    ParameterResource adminKey,
    string model,
    string endpointName)
{
    /// <summary>The named HTTP client the commands use.</summary>
    public const string HttpClientName = "PdApp.Dashboard";

    /// <summary>The seed's prompt (vLLM's PD example curl).</summary>
    public const string TestPrompt = "San Francisco is a";

    private static readonly TimeSpan TestRequestTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The seed's completion request for the served model.</summary>
    /// <returns>The JSON body.</returns>
    public string TestRequestBody() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model"] = model,
        ["prompt"] = TestPrompt,
        ["temperature"] = 0.7,
        ["max_tokens"] = 50,
    });

    /// <summary>Posts the test completion to the proxy and logs what came back.</summary>
    /// <param name="context">The command context.</param>
    /// <returns>The result.</returns>
    public async Task<ExecuteCommandResult> SendTestRequestAsync(ExecuteCommandContext context)
    {
        var logger = ResourceLogger(context, proxy);
        if (!TryGetProxyUrl(out var baseUrl, out var problem))
        {
            return CommandResults.Failure(problem);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        timeout.CancelAfter(TestRequestTimeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/v1/completions"))
            {
                Content = new StringContent(TestRequestBody(), Encoding.UTF8, "application/json"),
            };
            using var response = await Client(context).SendAsync(request, timeout.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var requestId = Header(response, PdHeaders.RequestId);
            if (!response.IsSuccessStatusCode)
            {
                var error = ErrorMessage(body);
                logger.LogWarning(
                    "Test request {RequestId} failed: {Status} in {ElapsedMs:0} ms: {Error}", requestId, (int)response.StatusCode, elapsedMs, error);
                return CommandResults.Failure($"The proxy answered {(int)response.StatusCode}: {error}");
            }

            var (text, completionTokens) = ReadCompletion(body);
            var prefill = Header(response, PdHeaders.ProxyPrefillInstance) ?? "-";
            var decode = Header(response, PdHeaders.ProxyDecodeInstance) ?? "-";
            logger.LogInformation(
                "Test request {RequestId}: 200 in {ElapsedMs:0} ms, prefill {PrefillInstance}, decode {DecodeInstance}, {CompletionTokens} tokens: {Prompt}{Completion}",
                requestId, elapsedMs, prefill, decode, completionTokens, TestPrompt, Continuation(text));
            return CommandResults.Success($"200 in {elapsedMs:0} ms via {prefill} -> {decode}: {TestPrompt}{Continuation(text)}");
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Test request got no answer within {Seconds} s", TestRequestTimeout.TotalSeconds);
            return CommandResults.Failure($"No answer within {TestRequestTimeout.TotalSeconds} s.");
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("Test request could not reach the proxy at {Url}: {Error}", baseUrl, ex.Message);
            return CommandResults.Failure($"The proxy at {baseUrl} could not be reached: {ex.Message}");
        }
    }

    /// <summary>Drains or undrains <paramref name="instance"/> through the proxy's admin API.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="instance">The instance resource.</param>
    /// <param name="drain">True to drain, false to undrain.</param>
    /// <returns>The result.</returns>
    public async Task<ExecuteCommandResult> SetDrainingAsync(ExecuteCommandContext context, IResource instance, bool drain)
    {
        var logger = ResourceLogger(context, instance);
        if (!TryGetProxyUrl(out var baseUrl, out var problem))
        {
            return CommandResults.Failure(problem);
        }

        var key = await adminKey.GetValueAsync(context.CancellationToken).ConfigureAwait(false);
        var action = drain ? "drain" : "undrain";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        timeout.CancelAfter(AdminTimeout);
        try
        {
            using var request = new HttpRequestMessage(
                HttpMethod.Post, new Uri(baseUrl, PdAdminRoutes.Draining(instance.Name, drain)));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await Client(context).SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var error = ErrorMessage(await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false));
                logger.LogWarning("Proxy refused to {Action} {Instance}: {Status} {Error}", action, instance.Name, (int)response.StatusCode, error);
                return CommandResults.Failure($"The proxy answered {(int)response.StatusCode}: {error}");
            }

            context.Services.GetService<InstanceRoutingStateMonitor>()?.Refresh();
            logger.LogInformation(
                drain
                    ? "Drained in the proxy: {Instance} gets no new requests and finishes those it has"
                    : "Undrained in the proxy: {Instance} gets new requests again",
                instance.Name);
            return CommandResults.Success(drain ? $"{instance.Name} drained." : $"{instance.Name} undrained.");
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            return CommandResults.Failure($"The proxy did not answer within {AdminTimeout.TotalSeconds} s.");
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("Could not reach the proxy at {Url} to {Action} {Instance}: {Error}", baseUrl, action, instance.Name, ex.Message);
            return CommandResults.Failure($"The proxy at {baseUrl} could not be reached: {ex.Message}");
        }
    }

    private bool TryGetProxyUrl(out Uri baseUrl, out string problem)
    {
        var endpoint = proxy.GetEndpoint(endpointName);
        if (!endpoint.IsAllocated)
        {
            baseUrl = null!;
            problem = $"The proxy's '{endpointName}' endpoint is not allocated yet; start the proxy first.";
            return false;
        }

        baseUrl = new Uri(endpoint.Url);
        problem = string.Empty;
        return true;
    }

    /// <summary>The completion as it continues the prompt: a space between them unless the text brings its own.</summary>
    internal static string Continuation(string text) =>
        text.Length == 0 || char.IsWhiteSpace(text[0]) || char.IsPunctuation(text[0]) ? text : " " + text;

    private static HttpClient Client(ExecuteCommandContext context) =>
        context.Services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);

    private static ILogger ResourceLogger(ExecuteCommandContext context, IResource resource) =>
        context.Services.GetService<ResourceLoggerService>()?.GetLogger(resource) ?? context.Logger;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static (string Text, int? CompletionTokens) ReadCompletion(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            var text = root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String
                ? t.GetString() ?? string.Empty
                : string.Empty;
            int? tokens = root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("completion_tokens", out var c) && c.TryGetInt32(out var n)
                ? n
                : null;
            return (text, tokens);
        }
        catch (JsonException)
        {
            return (string.Empty, null);
        }
    }

    private static string ErrorMessage(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message))
            {
                return message.GetString() ?? body;
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 300 ? body[..300] : body;
    }
}
