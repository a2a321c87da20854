using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>The admin API adds only safe addresses, and the engines' key does not follow an added instance unless configured.</summary>
public sealed class AdminInstanceAddressTests
{
    private const string Key = "admin-secret";
    private const string UpstreamKey = "vllm-secret";

    private static Task<RoutingHost> StartAsync(params string[] allowed)
    {
        var settings = new Dictionary<string, string?> { ["Pd:AdminApiKey"] = Key };
        for (var i = 0; i < allowed.Length; i++)
        {
            settings[$"Pd:Proxy:Admin:AllowedInstanceNetworks:{i}"] = allowed[i];
        }

        return RoutingHost.StartAsync(settings);
    }

    private static async Task<(HttpStatusCode Status, string? Param)> AddAsync(HttpClient client, string address)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/instances")
        {
            Content = JsonContent.Create(new { name = "added-0", role = "prefill", address }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var response = await client.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.BadRequest)
        {
            return (response.StatusCode, null);
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("http://user:pw@10.0.0.5:8100")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[fe80::1]:8100")]
    [InlineData("http://metadata.google.internal")]
    [InlineData("ftp://10.0.0.5")]
    public async Task UnsafeAddress_Returns400NamingAddress(string address)
    {
        await using var host = await StartAsync();

        var (status, param) = await AddAsync(host.Client, address);

        Assert.Equal((HttpStatusCode.BadRequest, "address"), (status, param));
        Assert.Null(host.Registry.Find("added-0"));
    }

    [Theory]
    [InlineData("http://10.1.2.3:8100", HttpStatusCode.Created)]
    [InlineData("http://gpu-7.internal:8100", HttpStatusCode.Created)]
    [InlineData("http://169.254.169.254", HttpStatusCode.Created)]
    [InlineData("http://192.168.1.1:8100", HttpStatusCode.BadRequest)]
    [InlineData("http://127.0.0.1:8100", HttpStatusCode.BadRequest)]
    public async Task Allowlist_OnlyListedHostsAndNetworksAreAccepted(string address, HttpStatusCode expected)
    {
        await using var host = await StartAsync("10.0.0.0/8", "gpu-7.internal", "169.254.169.254");

        var (status, _) = await AddAsync(host.Client, address);

        Assert.Equal(expected, status);
    }

    [Theory]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    [InlineData(true, HttpStatusCode.OK)]
    public async Task AdminAddedDecode_GetsTheUpstreamKeyOnlyWhenConfigured(bool sendKey, HttpStatusCode expected)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--api-key", UpstreamKey]);
        await using var decode = await SimulatorInstance.StartAsync("decode-9", ["--api-key", UpstreamKey]);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [Upstream.Dead("decode-dead")],
            [$"{PdProxySettings.UpstreamApiKey}={UpstreamKey}", $"{PdProxySettings.AdminApiKey}={Key}", $"Pd:Proxy:Admin:SendUpstreamKey={sendKey}"]);
        var registry = proxy.Services.GetRequiredService<InstanceRegistry>();
        registry.Remove("decode-dead");
        using var add = new HttpRequestMessage(HttpMethod.Post, "/admin/instances")
        {
            Content = JsonContent.Create(new { name = "decode-9", role = "decode", address = decode.BaseAddress.ToString() }),
        };
        add.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var added = await proxy.Client.SendAsync(add);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(expected, response.StatusCode);
    }
}
