using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;

namespace PdApp.Tests.Hosting;

/// <summary>What <c>AddPdProxy</c> declares: a typed project with its endpoint, health check and the app host's <c>Pd:Proxy</c> settings.</summary>
public sealed class PdProxyResourceTests
{
    [Fact]
    public void AddPdProxy_DeclaresTheProxyProjectWithItsHttpEndpointOnThePortAndAHealthCheck()
    {
        var builder = AppModel.CreateBuilder();

        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName, port: 8123);

        Assert.Same(proxy.Resource, Assert.Single(builder.Resources.OfType<ProjectResource>()));
        Assert.Equal("proxy", proxy.Resource.Name);
        Assert.EndsWith("PdApp.Proxy.csproj", proxy.Resource.GetProjectMetadata().ProjectPath, StringComparison.Ordinal);
        var endpoint = Assert.Single(proxy.Resource.Annotations.OfType<EndpointAnnotation>(), e => e.Name == PdProxyResource.HttpEndpointName);
        Assert.Equal(("http", 8123), (endpoint.UriScheme, endpoint.Port));
        Assert.Equal(PdProxyResource.HttpEndpointName, proxy.Resource.HttpEndpoint.EndpointName);
        Assert.Same(proxy.Resource.HttpEndpoint, proxy.Resource.HttpEndpoint);
        Assert.Single(proxy.Resource.Annotations.OfType<HealthCheckAnnotation>());
    }

    [Fact]
    public void AddPdProxy_WithoutPort_KeepsTheLaunchProfilePort()
    {
        var builder = AppModel.CreateBuilder();

        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>("gateway");

        // src/PdApp.Proxy/Properties/launchSettings.json: http://localhost:8000.
        var endpoint = Assert.Single(proxy.Resource.Annotations.OfType<EndpointAnnotation>(), e => e.Name == PdProxyResource.HttpEndpointName);
        Assert.Equal(8000, endpoint.Port);
        Assert.Equal("gateway", proxy.Resource.Name);
    }

    [Fact]
    public void AddPdProxy_CarriesEverythingAddProjectGivesAProject()
    {
        var builder = AppModel.CreateBuilder();
        var plain = builder.AddProject<Projects.PdApp_Proxy>("plain");

        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName);

        var added = proxy.Resource.Annotations.GroupBy(a => a.GetType()).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(
            plain.Resource.Annotations.GroupBy(a => a.GetType()),
            kind => Assert.True(added.GetValueOrDefault(kind.Key) >= kind.Count(), $"AddPdProxy lacks {kind.Key.Name}"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void AddPdProxy_PortOutOfRange_Throws(int port)
    {
        var builder = AppModel.CreateBuilder();

        Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddPdProxy<Projects.PdApp_Proxy>("proxy", port));
    }

    [Fact]
    public void AddPdProxy_EmptyName_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => AppModel.CreateBuilder().AddPdProxy<Projects.PdApp_Proxy>(string.Empty));
    }

    [Fact]
    public async Task AddPdProxy_ForwardsEveryPdProxyKeyOfTheAppHostAsTheSameKeyInTheEnvironment()
    {
        var builder = AppModel.CreateBuilder(
            "--Pd:Proxy:Timeouts:DecodeIdleSeconds=45",
            "--Pd:Proxy:Admission:MaxConcurrentRequests=7",
            "--Pd:Proxy:DecodeOnlyFallback=true",
            "--Pd:Proxy:Balancing:Policies:0=least-loaded",
            "--Pd:ProxyPort=8100",
            "--Pd:Model=/data/m/");

        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName);
        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal("45", env["Pd__Proxy__Timeouts__DecodeIdleSeconds"]);
        Assert.Equal("7", env["Pd__Proxy__Admission__MaxConcurrentRequests"]);
        Assert.Equal("true", env["Pd__Proxy__DecodeOnlyFallback"]);
        Assert.Equal("least-loaded", env["Pd__Proxy__Balancing__Policies__0"]);

        // Only the Pd:Proxy subsection: the rest of Pd describes engines (WithPdInstances forwards what the proxy needs of it).
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("Pd__", StringComparison.Ordinal) && !k.StartsWith("Pd__Proxy__", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, null, "0")]
    [InlineData(false, "2", "2")]
    [InlineData(true, null, null)]
    public async Task AddPdProxy_DrainDelay_IsOffForLocalRunsAndTheProxysDefaultWhenPublished(bool publish, string? configured, string? expected)
    {
        string[] args = [.. publish ? new[] { "--publisher", "manifest", "--output-path", Path.Combine(Path.GetTempPath(), "pdapp-unused.json") } : [],
            .. configured is null ? [] : new[] { $"--Pd:Proxy:ShutdownDrainDelaySeconds={configured}" }];
        var builder = AppModel.CreateBuilder(args);

        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName);
        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal(publish, builder.ExecutionContext.IsPublishMode);
        Assert.Equal(expected, env.TryGetValue("Pd__Proxy__ShutdownDrainDelaySeconds", out var value) ? value : null);
    }

    [Fact]
    public async Task AddPdProxy_PdConfigFileSettings_ReachTheProxyAndTheCommandLineStillWins()
    {
        using var folder = TempFolder.Create("pdapp-proxy-config-");
        var file = Path.Combine(folder.Path, "pd.json");
        await File.WriteAllTextAsync(
            file,
            """{ "Pd": { "Connector": "NixlConnector", "Proxy": { "Timeouts": { "ConnectSeconds": 3, "PrefillSeconds": 90 } } } }""");
        string[] args = ["--PdConfig", file, "--Pd:Proxy:Timeouts:PrefillSeconds=60"];
        var builder = AppModel.CreateBuilder(args);
        builder.AddPdConfigurationFile(args);

        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName);
        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal("3", env["Pd__Proxy__Timeouts__ConnectSeconds"]);
        Assert.Equal("60", env["Pd__Proxy__Timeouts__PrefillSeconds"]);
    }

    [Theory]
    [InlineData("Pd:Proxy:ApiKey")]
    [InlineData("Pd:Proxy:Upstream:ApiKey")]
    [InlineData("Pd:Proxy:Tracing:Password")]
    [InlineData("Pd:Proxy:Export:Token")]
    public void AddPdProxy_SecretInPdProxy_IsRefusedNamingTheKey(string key)
    {
        var builder = AppModel.CreateBuilder($"--{key}=hunter2");

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName));

        Assert.StartsWith(key, error.Message, StringComparison.Ordinal);
        Assert.Contains("Pd:UseClientApiKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPdProxy_TokenCountSettings_AreNotMistakenForSecrets()
    {
        var builder = AppModel.CreateBuilder("--Pd:Proxy:Disaggregation:SkipPrefillBelowTokens=64");

        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName);
        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal("64", env["Pd__Proxy__Disaggregation__SkipPrefillBelowTokens"]);
    }
}
