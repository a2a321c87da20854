using System.Net;
using System.Text;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>Every error a client can get: OpenAI's JSON, the right status, and the request id.</summary>
public sealed class ErrorShapeTests
{
    private const string ClientId = "client-req-7";

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("error").Clone();
    }

    [Fact]
    public async Task DecodeUnreachable_502KeepsTheClientsRequestId()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Dead("decode-0")]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(), r => r.Headers.Add(PdHeaders.RequestId, ClientId));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ClientId, response.Headers.GetValues(PdHeaders.RequestId).Single());
        Assert.Equal(OpenAiErrorTypes.ServiceUnavailable, (await ErrorOf(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task NonStreamingDecodeDiesMidGeneration_SaysItFailedNotUnreachable()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--fault-abort-after-tokens", "2"]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 8), r => r.Headers.Add(PdHeaders.RequestId, ClientId));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var message = (await ErrorOf(response)).GetProperty("message").GetString();
        Assert.DoesNotContain("could not be reached", message);
        Assert.Contains("decode-0 failed before answering", message);
        Assert.Equal(ClientId, response.Headers.GetValues(PdHeaders.RequestId).Single());
    }

    [Theory]
    [InlineData("GET", "/v1/nowhere", HttpStatusCode.NotFound)]
    [InlineData("GET", "/v1/completions", HttpStatusCode.MethodNotAllowed)]
    [InlineData("DELETE", "/v1/chat/completions", HttpStatusCode.MethodNotAllowed)]
    public async Task UnknownPathOrWrongMethod_OpenAiErrorWithRequestId(string method, string path, HttpStatusCode expected)
    {
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0")], [Upstream.Dead("decode-0")]);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add(PdHeaders.RequestId, ClientId);

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal((int)expected, (await ErrorOf(response)).GetProperty("code").GetInt32());
        Assert.Equal(ClientId, response.Headers.GetValues(PdHeaders.RequestId).Single());
    }

    /// <summary>
    /// Every status a client can get from the proxy itself. 408 (body timeout, minimum rate) is proven in
    /// <see cref="SlowUploadTests"/> over a raw socket; 415 is never sent (a non-JSON body is a 400, as vLLM answers);
    /// a bodiless 500 gets the same shape from <c>OpenAiStatusCodePages</c>.
    /// </summary>
    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.MethodNotAllowed)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    [InlineData(HttpStatusCode.RequestHeaderFieldsTooLarge)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public async Task EveryClientFacingError_IsOpenAiJsonWithItsStatusAndTheRequestId(HttpStatusCode expected)
    {
        await using var proxy = expected switch
        {
            // No instance registered yet: nothing can serve.
            HttpStatusCode.ServiceUnavailable => await ProxyFixture.StartAsync(KvConnectorNames.P2pNccl, [], [], ["Pd:Registry:Port=0", "Pd:Registry:BindAddress=127.0.0.1"]),
            HttpStatusCode.GatewayTimeout => await ProxyFixture.StartAsync(
                KvConnectorNames.SharedStorage,
                [Upstream.Of(await SimulatorInstance.StartAsync("prefill-0", ["--time-to-first-token", "30000"]))],
                [Upstream.Of(await SimulatorInstance.StartAsync("decode-0"))],
                ["Pd:Proxy:Timeouts:PrefillFirstByteSeconds=1"]),
            _ => await ProxyFixture.StartAsync(
                KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0")], [Upstream.Dead("decode-0")], ["Pd:Proxy:MaxRequestBodyBytes=1024"]),
        };
        using var request = expected switch
        {
            HttpStatusCode.NotFound => new HttpRequestMessage(HttpMethod.Get, "/v1/nowhere"),
            HttpStatusCode.MethodNotAllowed => new HttpRequestMessage(HttpMethod.Get, "/v1/completions"),
            HttpStatusCode.RequestEntityTooLarge => Post(Bodies.Completion(prompt: new string('a', 4096))),
            _ => Post(Bodies.Completion()),
        };
        request.Headers.Add(PdHeaders.RequestId, ClientId);
        if (expected == HttpStatusCode.RequestHeaderFieldsTooLarge)
        {
            // Past the proxy's 32 KiB (Kestrel's own default, where Kestrel would answer with an empty 431).
            request.Headers.Add("X-Filler", new string('x', 40 * 1024));
        }

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal((int)expected, (await ErrorOf(response)).GetProperty("code").GetInt32());
        Assert.Equal(ClientId, response.Headers.GetValues(PdHeaders.RequestId).Single());
    }

    [Fact]
    public async Task HeadersWithinTheLimit_AreServedAsBefore()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(), r => r.Headers.Add("X-Filler", new string('x', 24 * 1024)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static HttpRequestMessage Post(string json) =>
        new(HttpMethod.Post, "/v1/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task NonJsonContentType_Returns400LikeVllm(string contentType)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);
        using var content = new StringContent(Bodies.Completion(), Encoding.UTF8, contentType);

        using var response = await proxy.Client.PostAsync("/v1/completions", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("application/json", (await ErrorOf(response)).GetProperty("message").GetString());
        Assert.Equal(0, await prefill.ReadMetricAsync("vllm:request_success_total"));
    }

    [Fact]
    public async Task JsonContentTypeWithCharset_IsServed()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);
        using var content = new StringContent(Bodies.Completion(), Encoding.UTF8, "application/json");

        using var response = await proxy.Client.PostAsync("/v1/completions", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
