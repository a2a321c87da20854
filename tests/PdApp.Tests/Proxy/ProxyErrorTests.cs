using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>Every error a client can get, in OpenAI's shape with the right status.</summary>
public sealed class ProxyErrorTests
{
    private static async Task<ProxyFixture> StartAsync(
        string[]? prefillArgs = null, string[]? decodeArgs = null, params string[] settings)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", prefillArgs);
        var decode = await SimulatorInstance.StartAsync("decode-0", decodeArgs);
        return await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], settings);
    }

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("error").Clone();
    }

    [Theory]
    [InlineData("/v1/completions", "{\"model\": \"x\", \"prompt\": ")]
    [InlineData("/v1/chat/completions", "not json at all")]
    public async Task MalformedJson_Returns400(string path, string body)
    {
        await using var proxy = await StartAsync();

        using var response = await proxy.PostAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(OpenAiErrorTypes.InvalidRequest, (await ErrorOf(response)).GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("/v1/completions", """{"model": "/data/dp7b/", "max_tokens": 5}""", "prompt")]
    [InlineData("/v1/completions", """{"model": "/data/dp7b/", "prompt": 42}""", "prompt")]
    [InlineData("/v1/chat/completions", """{"model": "/data/dp7b/"}""", "messages")]
    [InlineData("/v1/chat/completions", """{"model": "/data/dp7b/", "messages": []}""", "messages")]
    [InlineData("/v1/completions", """{"model": "/data/dp7b/", "prompt": "hi", "max_tokens": "ten"}""", "max_tokens")]
    [InlineData("/v1/completions", """{"model": "/data/dp7b/", "prompt": "hi", "stream": "yes"}""", "stream")]
    [InlineData("/v1/completions", """{"model": "/data/dp7b/", "prompt": "hi", "stream_options": {"include_usage": true}}""", "stream_options")]
    [InlineData("/v1/completions", """{"model": 7, "prompt": "hi"}""", "model")]
    public async Task InvalidField_Returns400NamingIt(string path, string body, string param)
    {
        await using var proxy = await StartAsync();

        using var response = await proxy.PostAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(400, error.GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("/v1/completions", "{\"model\": \"/data/dp7b/\", \"prompt\": \"a\u00C3(b\"}")]
    [InlineData("/v1/chat/completions", "{\"model\": \"/data/dp7b/\", \"messages\": [{\"role\": \"user\", \"content\": \"\u00FF\"}]}")]
    [InlineData("/v1/completions", "{\"model\": \"\u00ED\u00A0\u0080\", \"prompt\": \"hi\"}")]
    [InlineData("/v1/completions", "{\"model\": \"/data/dp7b/\", \"prompt\": \"\\ud800\"}")]
    [InlineData("/v1/chat/completions", "{\"model\": \"/data/dp7b/\", \"messages\": [{\"role\": \"user\", \"content\": \"\\udc00x\"}]}")]
    public async Task InvalidUtf8OrLoneSurrogate_Returns400(string path, string latin1Body)
    {
        await using var proxy = await StartAsync();
        using var content = new ByteArrayContent(System.Text.Encoding.Latin1.GetBytes(latin1Body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await proxy.Client.PostAsync(path, content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(OpenAiErrorTypes.InvalidRequest, (await ErrorOf(response)).GetProperty("type").GetString());
        Assert.True(response.Headers.Contains(PdHeaders.RequestId));
    }

    [Fact]
    public async Task UnknownModel_Returns404()
    {
        await using var proxy = await StartAsync(settings: $"{PdProxySettings.Model}={ProxyFixture.Model}");

        using var response = await proxy.PostAsync("/v1/completions", """{"model": "gpt-4", "prompt": "hi"}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal(OpenAiErrorTypes.NotFound, error.GetProperty("type").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task BodyOverLimit_Returns413()
    {
        await using var proxy = await StartAsync(settings: "Pd:Proxy:MaxRequestBodyBytes=200");

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(prompt: new string('a', 500)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(OpenAiErrorTypes.RequestTooLarge, (await ErrorOf(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task BodyOverLimitSentChunked_Returns413()
    {
        await using var proxy = await StartAsync(settings: "Pd:Proxy:MaxRequestBodyBytes=200");

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(prompt: new string('a', 500)), r => r.Headers.TransferEncodingChunked = true);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task NoHealthyPrefillInstance_Returns503AndHealthIsUnready()
    {
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Dead("prefill-dead")],
            [Upstream.Of(decode)],
            ["Pd:Proxy:Health:Enabled=true", "Pd:Proxy:Health:IntervalSeconds=0.05", "Pd:Proxy:Health:TimeoutSeconds=0.5", "Pd:Proxy:Health:UnhealthyThreshold=1"]);

        var deadline = DateTime.UtcNow.AddSeconds(5);
        HttpStatusCode health;
        while ((health = (await proxy.Client.GetAsync("/health")).StatusCode) == HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(OpenAiErrorTypes.ServiceUnavailable, (await ErrorOf(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task PrefillUpstreamError_IsPassedThroughWithStatusAndBody()
    {
        await using var proxy = await StartAsync(prefillArgs: ["--failure-injection-rate", "100", "--failure-types", "server_error"]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("injected failure", (await ErrorOf(response)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task DecodeUpstreamError_IsPassedThroughWithStatusAndBody()
    {
        await using var proxy = await StartAsync(decodeArgs: ["--failure-injection-rate", "100", "--failure-types", "context_length"]);

        using var response = await proxy.PostAsync("/v1/chat/completions", Bodies.Chat(stream: true));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(OpenAiErrorTypes.InvalidRequest, (await ErrorOf(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task DecodeDropsConnectionMidStream_ClientGetsInBandErrorThenDone()
    {
        await using var proxy = await StartAsync(decodeArgs: ["--fault-abort-after-tokens", "3"]);

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 20, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(events.Count >= 3, $"got {events.Count} events");
        Assert.Equal("[DONE]", events[^1].Data);
        using var error = JsonDocument.Parse(events[^2].Data);
        Assert.Equal(502, error.RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task DecodeSilentMidStream_IdleTimeoutEndsStreamWithInBandError()
    {
        await using var proxy = await StartAsync(
            decodeArgs: ["--inter-token-latency", "5000"],
            settings: "Pd:Proxy:Timeouts:DecodeIdleSeconds=1");

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 5, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1].Data);
        using var error = JsonDocument.Parse(events[^2].Data);
        Assert.Equal(504, error.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("nothing for 1 s (Pd:Proxy:Timeouts:DecodeIdleSeconds)", error.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task DecodeSilentBeforeItsHeaders_Returns504WithinTheIdleTimeout()
    {
        // D accepts the request and says nothing: no status, no headers (prefill takes 30 s on it).
        await using var proxy = await StartAsync(
            decodeArgs: ["--fault-added-latency", "30000"],
            settings: "Pd:Proxy:Timeouts:DecodeIdleSeconds=0.5");

        using var relays = new MetricsRecorder(proxy.Services.GetRequiredService<ProxyMeter>().Meter);
        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(stream: true));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("within 0.5 s (Pd:Proxy:Timeouts:DecodeIdleSeconds)", (await ErrorOf(response)).GetProperty("message").GetString());

        // The relay waited the configured 0.5 s: not twice it, nor the 5 s a backstop timer would add.
        var relaySeconds = await relays.WaitForAsync("pdapp.proxy.decode.duration", 0.45);
        Assert.InRange(relaySeconds, 0.45, 2.5);
    }

    [Fact]
    public async Task NonStreamingGenerationLongerThanIdleTimeout_IsBoundedByTheNonStreamingTimeout()
    {
        await using var proxy = await StartAsync(
            decodeArgs: ["--inter-token-latency", "40"],
            settings: ["Pd:Proxy:Timeouts:DecodeIdleSeconds=0.3", "Pd:Proxy:Timeouts:DecodeNonStreamingSeconds=30"]);

        // D is silent for the whole ~0.8 s generation, longer than the idle timeout.
        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 20));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task NonStreamingGenerationOverTheNonStreamingTimeout_Returns504()
    {
        await using var proxy = await StartAsync(
            decodeArgs: ["--fault-added-latency", "5000"],
            settings: "Pd:Proxy:Timeouts:DecodeNonStreamingSeconds=0.3");

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("within 0.3 s (Pd:Proxy:Timeouts:DecodeNonStreamingSeconds)", (await ErrorOf(response)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task PrefillTimeoutWithoutFallback_Returns504BeforeAnyByte()
    {
        await using var proxy = await StartAsync(
            prefillArgs: ["--fault-added-latency", "5000"],
            settings: "Pd:Proxy:Timeouts:PrefillSeconds=0.3");

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(stream: true));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = await ErrorOf(response);
        Assert.Equal(OpenAiErrorTypes.ServiceUnavailable, error.GetProperty("type").GetString());
        Assert.Contains("longer than 0.3 s (Pd:Proxy:Timeouts:PrefillSeconds)", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task PrefillSilentBeforeItsHeaders_Returns504AfterTheFirstByteTimeout()
    {
        await using var proxy = await StartAsync(
            prefillArgs: ["--fault-added-latency", "30000"],
            settings: ["Pd:Proxy:Timeouts:PrefillSeconds=60", "Pd:Proxy:Timeouts:PrefillFirstByteSeconds=0.3"]);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("within 0.3 s (Pd:Proxy:Timeouts:PrefillFirstByteSeconds)", (await ErrorOf(response)).GetProperty("message").GetString());
        Assert.InRange(elapsed, TimeSpan.FromSeconds(0.25), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task DecodeUnreachable_Returns502()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Dead("decode-dead")]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(OpenAiErrorTypes.ServiceUnavailable, (await ErrorOf(response)).GetProperty("type").GetString());
    }
}
