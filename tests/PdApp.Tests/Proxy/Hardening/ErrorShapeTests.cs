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
