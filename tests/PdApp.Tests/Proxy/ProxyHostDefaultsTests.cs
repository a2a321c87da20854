using System.Net;
using System.Net.Quic;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>
/// The proxy runs on the slim host builder (bench/RESULTS.md 4.16); what the full builder offers
/// users is still there where it is configured: HTTPS endpoints from <c>Kestrel:*</c> and
/// <c>AllowedHosts</c>. Authentication runs only for endpoints that name a policy.
/// </summary>
public sealed class ProxyHostDefaultsTests
{
    [Fact]
    public async Task HttpsEndpointFromKestrelConfiguration_IsServed()
    {
        var directory = Directory.CreateTempSubdirectory("pdapp-https-");
        try
        {
            var path = Path.Combine(directory.FullName, "proxy.pfx");
            await File.WriteAllBytesAsync(path, SelfSignedPfx("test-password"));
            await using var app = ProxyApp.Create(
            [
                .. Settings(),
                "--Kestrel:Endpoints:Https:Url=https://127.0.0.1:0",
                $"--Kestrel:Endpoints:Https:Certificate:Path={path}",
                "--Kestrel:Endpoints:Https:Certificate:Password=test-password",
            ]);
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
            using var client = new HttpClient(handler) { BaseAddress = address };

            using var response = await client.GetAsync(HealthEndpoints.AlivePath);

            Assert.Equal("https", address.Scheme);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await app.StopAsync();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AllowedHosts_RefusesOtherHosts_AsTheFullBuilderDoes()
    {
        await using var app = ProxyApp.Create([.. Settings(), "--AllowedHosts=pd.example;other.example"]);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using var client = new HttpClient { BaseAddress = address };

        using var named = new HttpRequestMessage(HttpMethod.Get, HealthEndpoints.AlivePath) { Headers = { Host = "pd.example" } };
        using var allowed = await client.SendAsync(named);
        using var refused = await client.GetAsync(HealthEndpoints.AlivePath);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task OpenEndpoints_PassNoAuthenticationMiddleware_PolicyEndpointsStillRefuseWithoutAKey()
    {
        await using var app = ProxyApp.Create([.. Settings(), $"--{PdProxySettings.AdminApiKey}=admin-secret"]);
        app.MapGet("/test/open", (HttpContext context) => Results.Text(
            $"{context.Features.Get<IAuthenticationFeature>() is not null},{context.Items.Keys.Any(k => k is string name && name.Contains("Authorization", StringComparison.Ordinal))}"));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using var client = new HttpClient { BaseAddress = address };

        var open = await client.GetStringAsync("/test/open");
        using var admin = await client.GetAsync(PdAdminRoutes.Instances);
        using var adminRequest = new HttpRequestMessage(HttpMethod.Get, PdAdminRoutes.Instances) { Headers = { Authorization = new("Bearer", "admin-secret") } };
        using var keyed = await client.SendAsync(adminRequest);

        // Neither the authentication feature nor the authorization middleware's mark in Items.
        Assert.Equal("False,False", open);
        Assert.Equal(HttpStatusCode.Unauthorized, admin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, keyed.StatusCode);
        await app.StopAsync();
    }

    [Theory]
    [InlineData(null, "simple")]
    [InlineData("json", "json")]
    [InlineData("systemd", "systemd")]
    public async Task ConsoleFormatter_IsChosenByConfiguration_AsWithTheFullBuilder(string? setting, string expected)
    {
        await using var app = ProxyApp.Create([.. Settings(), .. setting is null ? Array.Empty<string>() : [$"--Logging:Console:FormatterName={setting}"]]);

        Assert.Equal(expected, app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }

    [Fact]
    public async Task Http3Transport_IsAddedOnlyWhenAnEndpointAsksForIt()
    {
        await using var plain = ProxyApp.Create(Settings());
        await using var http3 = ProxyApp.Create([.. Settings(), "--Kestrel:EndpointDefaults:Protocols=Http1AndHttp2AndHttp3"]);

        // Kestrel registers its QUIC transport only where the OS has msquic (as the full builder does).
        var quic = (OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()) && QuicListener.IsSupported;

        Assert.Empty(plain.Services.GetServices<IMultiplexedConnectionListenerFactory>());
        Assert.Equal(quic ? 1 : 0, http3.Services.GetServices<IMultiplexedConnectionListenerFactory>().Count());
    }

    [Fact]
    public void OnlyEndpointsNamingAPolicy_RunAuthentication()
    {
        Assert.True(ProxyHostDefaults.NamesAuthorizationPolicy(WithEndpoint(new AuthorizeAttribute("policy"))));
        Assert.True(ProxyHostDefaults.NamesAuthorizationPolicy(WithEndpoint(new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build())));
        Assert.False(ProxyHostDefaults.NamesAuthorizationPolicy(WithEndpoint()));
        Assert.False(ProxyHostDefaults.NamesAuthorizationPolicy(new DefaultHttpContext()));
    }

    private static DefaultHttpContext WithEndpoint(params object[] metadata)
    {
        var context = new DefaultHttpContext();
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(metadata), "test"));
        return context;
    }

    private static byte[] SelfSignedPfx(string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.Export(X509ContentType.Pfx, password);
    }

    private static string[] Settings() => StandaloneProxySettings.Create();
}
