using System.ClientModel;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>The client key protects the proxy; the upstream key reaches the instances and never leaks between them.</summary>
public sealed class ProxySecurityTests
{
    private const string ClientKey = "client-secret";
    private const string UpstreamKey = "vllm-secret";

    [Fact]
    public async Task ClientApiKeySet_RequestsWithoutItGet401()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], [$"{PdProxySettings.ApiKey}={ClientKey}"]);

        using var missing = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        using var wrong = await proxy.PostAsync("/v1/completions", Bodies.Completion(), r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "nope"));
        using var models = await proxy.Client.GetAsync("/v1/models");
        using var health = await proxy.Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        Assert.Contains(OpenAiErrorTypes.Authentication, await missing.Content.ReadAsStringAsync());
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
        Assert.True(missing.Headers.Contains(PdHeaders.RequestId));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(0, await prefill.ReadMetricAsync("vllm:request_success_total"));
    }

    [Fact]
    public async Task ClientApiKeySet_OpenAiClientWithTheKeyIsServed()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], [$"{PdProxySettings.ApiKey}={ClientKey}"]);
        var client = new ChatClient(ProxyFixture.Model, new ApiKeyCredential(ClientKey), new OpenAIClientOptions { Endpoint = new Uri(proxy.BaseAddress, "/v1") });

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 4 });

        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
    }

    [Fact]
    public async Task UpstreamApiKey_IsSentToBothInstancesInsteadOfTheClientKey()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--api-key", UpstreamKey]);
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--api-key", UpstreamKey]);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [Upstream.Of(decode)],
            [$"{PdProxySettings.ApiKey}={ClientKey}", $"{PdProxySettings.UpstreamApiKey}={UpstreamKey}"]);

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(stream: true), r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey));
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await prefill.ReadMetricAsync("vllm:request_success_total"));
        Assert.Equal(1, await decode.ReadMetricAsync("vllm:request_success_total"));
    }

    [Fact]
    public async Task InstancesRequireAKeyTheProxyLacks_Their401IsPassedThrough()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--api-key", UpstreamKey]);
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--api-key", UpstreamKey]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ClientAndAdminKeys_EachOpensOnlyItsOwnRoutes()
    {
        const string AdminKey = "admin-secret";
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Dead("prefill-dead")],
            [Upstream.Dead("decode-dead")],
            [$"{PdProxySettings.ApiKey}={ClientKey}", $"{PdProxySettings.AdminApiKey}={AdminKey}"]);

        using var adminKeyOnV1 = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(), r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey));
        using var clientKeyOnAdmin = await Send("/admin/instances", ClientKey);
        using var adminKeyOnAdmin = await Send("/admin/instances", AdminKey);

        Assert.Equal(HttpStatusCode.Unauthorized, adminKeyOnV1.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, clientKeyOnAdmin.StatusCode);
        Assert.Contains("Invalid admin API key.", await clientKeyOnAdmin.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, adminKeyOnAdmin.StatusCode);

        Task<HttpResponseMessage> Send(string path, string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return proxy.Client.SendAsync(request);
        }
    }

    [Fact]
    public async Task NoClientKey_OpenRoutesAreServedWithoutRunningTheKeyScheme()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);
        using var authentications = new AuthenticationCounter(proxy.Services);

        using var completion = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        using var models = await proxy.Client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Equal(0, authentications.Count);
    }

    [Fact]
    public async Task ClientApiKeySet_EachRequestIsAuthenticatedOnce()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], [$"{PdProxySettings.ApiKey}={ClientKey}"]);
        using var authentications = new AuthenticationCounter(proxy.Services);

        using var completion = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(), r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey));
        using var health = await proxy.Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(1, authentications.Count);
    }

    // Counts the authentications of one proxy (ASP.NET Core's authentication meter, from that proxy's meter factory).
    private sealed class AuthenticationCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private int _count;

        public AuthenticationCounter(IServiceProvider services)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory)
                    && instrument.Meter.Name == "Microsoft.AspNetCore.Authentication"
                    && instrument.Name.Contains("authenticate", StringComparison.Ordinal))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _count));
            _listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _count));
            _listener.Start();
        }

        public int Count => Volatile.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
