using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Proxy.Routing;

namespace PdApp.Tests.Proxy.Routing;

public sealed class AdminApiTests
{
    private const string Key = "admin-secret";

    private static Task<RoutingHost> StartAsync(string? key = Key) => RoutingHost.StartAsync(new Dictionary<string, string?>
    {
        ["Pd:AdminApiKey"] = key,
        ["Pd:Instances:0:Name"] = "decode-0",
        ["Pd:Instances:0:Role"] = "Decode",
        ["Pd:Instances:0:Address"] = "http://127.0.0.1:18200",
    });

    private static HttpRequestMessage Request(HttpMethod method, string path, object? body = null, string? key = Key)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (body is string raw)
        {
            request.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    private static async Task<JsonElement> ErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("error").Clone();
    }

    [Fact]
    public async Task NoAdminKeyConfigured_AdminApiIsNotFound()
    {
        await using var host = await StartAsync(key: null);

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/admin/instances", key: "anything"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Pd:AdminApiKey", (await ErrorAsync(response)).GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "Missing admin API key")]
    [InlineData("wrong", "Invalid admin API key.")]
    [InlineData("admin-secret-and-more", "Invalid admin API key.")]
    public async Task MissingOrWrongKey_Returns401(string? key, string message)
    {
        await using var host = await StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Post, "/admin/instances/decode-0/drain", key: key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var error = await ErrorAsync(response);
        Assert.Equal(OpenAiErrorTypes.Authentication, error.GetProperty("type").GetString());
        Assert.StartsWith(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(host.Registry.Find("decode-0")!.IsDraining);
    }

    [Fact]
    public async Task List_ShowsConfiguredInstances()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Get, "/admin/instances"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("list", body.RootElement.GetProperty("object").GetString());
        var instance = Assert.Single(body.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal("decode-0", instance.GetProperty("name").GetString());
        Assert.Equal("Decode", instance.GetProperty("role").GetString());
        Assert.Equal("http://127.0.0.1:18200/", instance.GetProperty("address").GetString());
        Assert.Equal("Configuration", instance.GetProperty("source").GetString());
        Assert.True(instance.GetProperty("healthy").GetBoolean());
        Assert.False(instance.GetProperty("draining").GetBoolean());
        Assert.Equal(JsonValueKind.Null, instance.GetProperty("ejectedUntil").ValueKind);
        Assert.Equal(0, instance.GetProperty("outstanding").GetInt32());
        Assert.Equal(JsonValueKind.Null, instance.GetProperty("load").ValueKind);
    }

    [Fact]
    public async Task Add_RegistersAnInstanceTheSelectorUses()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Post, "/admin/instances",
            new { name = "prefill-9", role = "prefill", address = "http://127.0.0.1:18109", kvAddress = "127.0.0.1:21009" }));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/admin/instances/prefill-9", response.Headers.Location?.ToString());
        var added = host.Registry.Find("prefill-9");
        Assert.NotNull(added);
        Assert.Equal(InstanceSource.Admin, added.Source);
        Assert.Equal(new Uri("http://127.0.0.1:18109/"), added.BaseAddress);
        Assert.Equal("127.0.0.1:21009", added.KvAddress);
        using var lease = host.Selector.Select(PdRole.Prefill, new RoutingContext("r", PdApp.Proxy.Routing.Balancing.StableHash.Hash("prompt")));
        Assert.Same(added, lease?.Instance);

        using var get = await host.Client.SendAsync(Request(HttpMethod.Get, "/admin/instances/prefill-9"));
        using var view = JsonDocument.Parse(await get.Content.ReadAsStringAsync());
        Assert.Equal("Admin", view.RootElement.GetProperty("source").GetString());
        Assert.Equal(1, view.RootElement.GetProperty("outstanding").GetInt32());
    }

    [Fact]
    public async Task AddDuplicateName_Returns409()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Post, "/admin/instances",
            new { name = "decode-0", role = "Decode", address = "http://127.0.0.1:18999" }));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("already exists", (await ErrorAsync(response)).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(new Uri("http://127.0.0.1:18200/"), host.Registry.Find("decode-0")!.BaseAddress);
    }

    [Theory]
    [InlineData("""{"role":"Decode","address":"http://127.0.0.1:1"}""", "name")]
    [InlineData("""{"name":"a/b","role":"Decode","address":"http://127.0.0.1:1"}""", "name")]
    [InlineData("""{"name":"x","role":"Prefil","address":"http://127.0.0.1:1"}""", "role")]
    [InlineData("""{"name":"x","role":"1","address":"http://127.0.0.1:1"}""", "role")]
    [InlineData("""{"name":"x","role":"Decode","address":"127.0.0.1:1"}""", "address")]
    [InlineData("""{"name":"x","role":"Decode","address":"ftp://127.0.0.1:1"}""", "address")]
    [InlineData("""{"name":"x","role":"Decode","address":"http://127.0.0.1:1","kvAddress":"nope"}""", "kvAddress")]
    [InlineData("""{"name":"x","role":"Decode","address":42}""", "address")]
    [InlineData("""{"name":"x",""", null)]
    [InlineData("null", null)]
    public async Task AddInvalidBody_Returns400NamingTheField(string body, string? param)
    {
        await using var host = await StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Post, "/admin/instances", body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal(OpenAiErrorTypes.InvalidRequest, error.GetProperty("type").GetString());
        if (param is null)
        {
            Assert.Contains("JSON object", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }

        Assert.Single(host.Registry.Instances);
    }

    [Fact]
    public async Task DrainAndUndrain_ControlWhetherTheInstanceGetsRequests()
    {
        await using var host = await StartAsync();

        using (var drained = await host.Client.SendAsync(Request(HttpMethod.Post, "/admin/instances/decode-0/drain")))
        {
            Assert.Equal(HttpStatusCode.OK, drained.StatusCode);
        }

        Assert.Null(host.Selector.Select(PdRole.Decode, new RoutingContext("r", null)));
        Assert.NotNull(host.Registry.Find("decode-0"));

        using (var undrained = await host.Client.SendAsync(Request(HttpMethod.Post, "/admin/instances/decode-0/undrain")))
        {
            using var view = JsonDocument.Parse(await undrained.Content.ReadAsStringAsync());
            Assert.False(view.RootElement.GetProperty("draining").GetBoolean());
            Assert.True(view.RootElement.GetProperty("available").GetBoolean());
        }

        using var lease = host.Selector.Select(PdRole.Decode, new RoutingContext("r", null));
        Assert.Equal("decode-0", lease?.Instance.Name);
    }

    [Fact]
    public async Task Delete_RemovesTheInstance()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.SendAsync(Request(HttpMethod.Delete, "/admin/instances/decode-0"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(host.Registry.Instances);
    }

    [Fact]
    public async Task DeleteWithDrain_KeepsTheInstanceUntilItsLastRequestEnds()
    {
        await using var host = await StartAsync();
        var lease = host.Selector.Select(PdRole.Decode, new RoutingContext("r", null))!;

        using var response = await host.Client.SendAsync(Request(HttpMethod.Delete, "/admin/instances/decode-0?drain=true"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var instance = host.Registry.Find("decode-0");
        Assert.NotNull(instance);
        Assert.True(instance.IsDraining);
        Assert.Null(host.Selector.Select(PdRole.Decode, new RoutingContext("r2", null)));

        lease.Dispose();

        Assert.True(await Eventually.TrueAsync(() => host.Registry.Find("decode-0") is null));
    }

    [Theory]
    [InlineData("DELETE", "/admin/instances/nope")]
    [InlineData("GET", "/admin/instances/nope")]
    [InlineData("POST", "/admin/instances/nope/drain")]
    [InlineData("POST", "/admin/instances/nope/undrain")]
    public async Task UnknownInstance_Returns404(string method, string path)
    {
        await using var host = await StartAsync();

        using var response = await host.Client.SendAsync(Request(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await ErrorAsync(response);
        Assert.Equal("Instance 'nope' does not exist.", error.GetProperty("message").GetString());
        Assert.Equal(OpenAiErrorTypes.NotFound, error.GetProperty("type").GetString());
    }
}
