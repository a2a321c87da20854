using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Discovery;

namespace PdApp.Tests.Proxy.Routing;

public sealed class ConfigurationRegistryTests
{
    [Fact]
    public async Task AspireReference_ResolvesThroughServiceDiscoveryConfiguration()
    {
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>
        {
            ["Pd:Instances:0:Name"] = "prefill-0",
            ["Pd:Instances:0:Role"] = "prefill",
            ["Pd:Instances:0:Address"] = "http://prefill-0",
            ["Pd:Instances:0:KvAddress"] = "127.0.0.1:21001",
            ["services:prefill-0:http:0"] = "http://localhost:18100",
            ["Pd:Instances:1:Name"] = "decode-0",
            ["Pd:Instances:1:Role"] = "DECODE",
            ["Pd:Instances:1:Address"] = "http://decode-0",
            ["services:decode-0:http:0"] = "http://127.0.0.1:18200",
        });

        var prefill = host.Registry.Find("prefill-0");
        var decode = host.Registry.Find("decode-0");

        Assert.NotNull(prefill);
        Assert.Equal(PdRole.Prefill, prefill.Role);
        Assert.Equal(new Uri("http://localhost:18100/"), prefill.BaseAddress);
        Assert.Equal("127.0.0.1:21001", prefill.KvAddress);
        Assert.Equal(InstanceSource.Configuration, prefill.Source);
        Assert.NotNull(decode);
        Assert.Equal(PdRole.Decode, decode.Role);
        Assert.Equal(new Uri("http://127.0.0.1:18200/"), decode.BaseAddress);
        Assert.Equal(2, host.Registry.Instances.Count);
    }

    [Fact]
    public async Task WithServiceDefaults_AReferenceResolvesToOneInstance()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pd:Proxy:Health:Enabled"] = "false",
            ["Pd:Instances:0:Name"] = "decode-0",
            ["Pd:Instances:0:Role"] = "Decode",
            ["Pd:Instances:0:Address"] = "http://decode-0",
            ["services:decode-0:http:0"] = "http://127.0.0.1:18200",
        });
        builder.AddServiceDefaults(PdApp.Proxy.Observability.Metrics.InstanceMetrics.MeterName);
        builder.Services.AddPdRouting(builder.Configuration);
        var hostedServices = builder.Services.Count(d => d.ServiceType == typeof(IHostedService));
        builder.Services.AddPdRouting(builder.Configuration);
        Assert.Equal(hostedServices, builder.Services.Count(d => d.ServiceType == typeof(IHostedService)));
        using var app = builder.Build();

        await app.StartAsync();
        var registry = app.Services.GetRequiredService<InstanceRegistry>();

        var instance = Assert.Single(registry.Instances);
        Assert.Equal(new Uri("http://127.0.0.1:18200/"), instance.BaseAddress);
        await app.StopAsync();
    }

    [Fact]
    public async Task LiteralAddress_IsUsedAsIs()
    {
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>
        {
            ["Pd:Instances:0:Name"] = "both-0",
            ["Pd:Instances:0:Role"] = "Both",
            ["Pd:Instances:0:Address"] = "http://127.0.0.1:18300",
        });

        var instance = Assert.Single(host.Registry.Instances);
        Assert.Equal(new Uri("http://127.0.0.1:18300/"), instance.BaseAddress);
        Assert.Equal(PdRole.Both, instance.Role);
    }

    [Fact]
    public async Task SeveralEndpointsForOneReference_BecomeSeveralInstances()
    {
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>
        {
            ["Pd:Instances:0:Name"] = "decode",
            ["Pd:Instances:0:Role"] = "Decode",
            ["Pd:Instances:0:Address"] = "http://decode",
            ["services:decode:http:0"] = "http://127.0.0.1:18201",
            ["services:decode:http:1"] = "http://127.0.0.1:18202",
        });

        Assert.Equal(
            ["decode -> http://127.0.0.1:18201/", "decode#1 -> http://127.0.0.1:18202/"],
            host.Registry.Instances.Select(i => $"{i.Name} -> {i.BaseAddress}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ChangedEndpoint_IsPickedUpOnRefresh_KeepingUnchangedInstances()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pd:Proxy:Health:Enabled"] = "false",
            ["Pd:Instances:0:Name"] = "prefill-0",
            ["Pd:Instances:0:Role"] = "Prefill",
            ["Pd:Instances:0:Address"] = "http://prefill-0",
            ["services:prefill-0:http:0"] = "http://127.0.0.1:18100",
            ["Pd:Instances:1:Name"] = "decode-0",
            ["Pd:Instances:1:Role"] = "Decode",
            ["Pd:Instances:1:Address"] = "http://127.0.0.1:18200",
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        var memory = new ReloadableMemorySource(settings);
        ((IConfigurationBuilder)builder.Configuration).Add(memory);
        builder.Services.AddPdRouting(builder.Configuration);
        using var app = builder.Build();
        await app.StartAsync();
        var registry = app.Services.GetRequiredService<InstanceRegistry>();
        var decodeBefore = registry.Find("decode-0");
        Assert.Equal(new Uri("http://127.0.0.1:18100/"), registry.Find("prefill-0")!.BaseAddress);

        memory.Provider.SetAndReload("services:prefill-0:http:0", "http://127.0.0.1:18111");

        Assert.True(await Eventually.TrueAsync(() => registry.Find("prefill-0")?.BaseAddress == new Uri("http://127.0.0.1:18111/")));
        Assert.Same(decodeBefore, registry.Find("decode-0"));
        await app.StopAsync();
    }

    [Fact]
    public async Task InstanceRemovedByOperator_IsNotResurrectedByRefresh()
    {
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>
        {
            ["Pd:Instances:0:Name"] = "decode-0",
            ["Pd:Instances:0:Role"] = "Decode",
            ["Pd:Instances:0:Address"] = "http://127.0.0.1:18200",
        });
        var source = host.Services.GetRequiredService<ConfigurationInstanceSource>();

        Assert.True(host.Registry.Remove("decode-0"));
        await source.RefreshAsync(CancellationToken.None);

        Assert.Empty(host.Registry.Instances);
    }

    [Theory]
    [InlineData("Pd:Instances:0:Role", "Prefil", "Pd:Instances:0:Role must be Prefill, Decode or Both")]
    [InlineData("Pd:Instances:0:Address", "prefill-0", "Pd:Instances:0:Address must be an absolute URL")]
    [InlineData("Pd:Instances:1:Name", "prefill-0", "Pd:Instances:1:Name 'prefill-0' is used by another instance")]
    [InlineData("Pd:Instances:0:KvAddress", "10.0.0.1", "Pd:Instances:0:KvAddress must be host:port")]
    [InlineData("Pd:Proxy:Health:IntervalSeconds", "0", "Pd:Proxy:Health:IntervalSeconds must be positive")]
    [InlineData("Pd:Proxy:Health:UnhealthyThreshold", "0", "Pd:Proxy:Health:UnhealthyThreshold must be at least 1")]
    [InlineData("Pd:Proxy:Ejection:MaxEjectionSeconds", "1", "Pd:Proxy:Ejection:MaxEjectionSeconds (1) must be at least Pd:Proxy:Ejection:BaseEjectionSeconds")]
    [InlineData("Pd:Proxy:Balancing:PrefixLength", "0", "Pd:Proxy:Balancing:PrefixLength must be at least 1")]
    [InlineData("Pd:Proxy:Balancing:PrefixAffinityLoadFactor", "0.5", "Pd:Proxy:Balancing:PrefixAffinityLoadFactor must be at least 1")]
    [InlineData("Pd:Discovery:Dns:Prefill", "not a host", "Pd:Discovery:Dns:Prefill must be a DNS name")]
    [InlineData("Pd:Registry:Port", "70000", "Pd:Registry:Port must be between 0 and 65535")]
    public async Task InvalidSetting_FailsStartUp_NamingTheSetting(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pd:Instances:0:Name"] = "prefill-0",
            ["Pd:Instances:0:Role"] = "Prefill",
            ["Pd:Instances:0:Address"] = "http://127.0.0.1:18100",
            ["Pd:Instances:1:Name"] = "decode-0",
            ["Pd:Instances:1:Role"] = "Decode",
            ["Pd:Instances:1:Address"] = "http://127.0.0.1:18200",
            [key] = value,
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await RoutingHost.StartAsync(settings);
        });

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownBalancingPolicy_FailsStartUp_NamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(async () =>
        {
            await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?> { ["Pd:Proxy:Balancing:Decode"] = "Fastest" });
        });

        Assert.Contains("Pd:Proxy:Balancing:Decode", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An in-memory configuration source whose values can change at run time, like a reloaded file.</summary>
    private sealed class ReloadableMemorySource(IDictionary<string, string?> initial) : IConfigurationSource
    {
        public ReloadableMemoryProvider Provider { get; } = new(initial);

        public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;
    }

    private sealed class ReloadableMemoryProvider : ConfigurationProvider
    {
        public ReloadableMemoryProvider(IDictionary<string, string?> initial)
        {
            foreach (var (key, value) in initial)
            {
                Data[key] = value;
            }
        }

        public void SetAndReload(string key, string value)
        {
            Data[key] = value;
            OnReload();
        }
    }
}
