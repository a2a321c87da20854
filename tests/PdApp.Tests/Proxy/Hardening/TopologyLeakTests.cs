using System.Net;
using System.Net.Http.Headers;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>Clients never learn instance addresses: errors name instances, <c>/metrics</c> needs a key once keys exist.</summary>
public sealed class TopologyLeakTests
{
    private const string ClientKey = "client-secret";
    private const string AdminKey = "admin-secret";

    [Fact]
    public async Task PrefillUnreachable_ErrorNamesTheInstanceNotItsAddress()
    {
        var decode = await SimulatorInstance.StartAsync("decode-0");
        var dead = Upstream.Dead("prefill-0");
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [dead], [Upstream.Of(decode)]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("prefill-0", body);
        Assert.DoesNotContain("127.0.0.1", body);
        Assert.DoesNotContain(dead.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), body);
        Assert.True(response.Headers.Contains(PdHeaders.RequestId));
    }

    [Fact]
    public async Task KeysConfigured_MetricsNeedTheAdminKey()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [Upstream.Of(decode)],
            [$"{PdProxySettings.ApiKey}={ClientKey}", $"{PdProxySettings.AdminApiKey}={AdminKey}"]);

        using var anonymous = await proxy.Client.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var client = await GetWithKeyAsync(proxy, ClientKey);
        using var admin = await GetWithKeyAsync(proxy, AdminKey);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains(OpenAiErrorTypes.Authentication, await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, client.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Pd:MetricsAccess=Open")]
    public async Task NoKeysOrOpen_MetricsStayOpen(string? setting)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        string[] settings = setting is null ? [] : [setting, $"{PdProxySettings.ApiKey}={ClientKey}"];
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], settings);

        using var anonymous = await proxy.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }

    private static Task<HttpResponseMessage> GetWithKeyAsync(ProxyFixture proxy, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return proxy.Client.SendAsync(request);
    }
}
