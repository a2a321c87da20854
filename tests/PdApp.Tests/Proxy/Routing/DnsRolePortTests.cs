using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing.Discovery;

namespace PdApp.Tests.Proxy.Routing;

/// <summary>
/// DNS discovery as the Kubernetes manifest configures it: each role's headless Service, each role on its
/// own port (<c>Pd:Discovery:Dns:PrefillPort</c> / <c>DecodePort</c>), pods added and removed by scaling.
/// </summary>
public sealed class DnsRolePortTests
{
    private const string PrefillService = "prefill.pdapp.svc";
    private const string DecodeService = "decode.pdapp.svc";

    private static Task<RoutingHost> StartAsync(FakeHostAddressResolver resolver, Dictionary<string, string?> settings) =>
        RoutingHost.StartAsync(
            new Dictionary<string, string?>(settings)
            {
                ["Pd:Discovery:Dns:Prefill"] = PrefillService,
                ["Pd:Discovery:Dns:Decode"] = DecodeService,
                ["Pd:Discovery:Dns:IntervalSeconds"] = "3600",
            },
            services => services.Replace(ServiceDescriptor.Singleton<IHostAddressResolver>(resolver)));

    private static string[] Addresses(RoutingHost host, PdRole role) =>
        [.. host.Registry.GetInstances(role).Select(i => i.BaseAddress.ToString()).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task PerRolePorts_PrefillAndDecodeAreReachedOnTheirOwnPorts()
    {
        var resolver = new FakeHostAddressResolver();
        resolver.Set(PrefillService, "10.1.0.1");
        resolver.Set(DecodeService, "10.2.0.1", "fd00::7");
        await using var host = await StartAsync(resolver, new() { ["Pd:Discovery:Dns:PrefillPort"] = "8100", ["Pd:Discovery:Dns:DecodePort"] = "8200" });

        Assert.Equal(["http://10.1.0.1:8100/"], Addresses(host, PdRole.Prefill));
        Assert.Equal(["http://10.2.0.1:8200/", "http://[fd00::7]:8200/"], Addresses(host, PdRole.Decode));
        Assert.Equal(["prefill@10.1.0.1:8100"], host.Registry.GetInstances(PdRole.Prefill).Select(RoutingHost.Describe));
    }

    [Fact]
    public async Task RoleWithoutItsOwnPort_UsesTheCommonPort()
    {
        var resolver = new FakeHostAddressResolver();
        resolver.Set(PrefillService, "10.1.0.1");
        resolver.Set(DecodeService, "10.2.0.1");
        await using var host = await StartAsync(resolver, new() { ["Pd:Discovery:Dns:Port"] = "9000", ["Pd:Discovery:Dns:PrefillPort"] = "8100" });

        Assert.Equal(["http://10.1.0.1:8100/"], Addresses(host, PdRole.Prefill));
        Assert.Equal(["http://10.2.0.1:9000/"], Addresses(host, PdRole.Decode));
    }

    [Fact]
    public async Task ScalingARole_ReResolutionAddsAndRemovesItsPodsOnly()
    {
        var resolver = new FakeHostAddressResolver();
        resolver.Set(PrefillService, "10.1.0.1");
        resolver.Set(DecodeService, "10.2.0.1");
        await using var host = await StartAsync(resolver, new() { ["Pd:Discovery:Dns:PrefillPort"] = "8100", ["Pd:Discovery:Dns:DecodePort"] = "8200" });
        var source = host.Services.GetRequiredService<DnsInstanceSource>();
        var decode = host.FindAt("decode@10.2.0.1:8200");
        Assert.NotNull(decode);

        // kubectl scale deployment/prefill --replicas=3: two more records behind the prefill Service.
        resolver.Set(PrefillService, "10.1.0.1", "10.1.0.2", "10.1.0.3");
        await source.RefreshAsync(CancellationToken.None);

        Assert.Equal(["http://10.1.0.1:8100/", "http://10.1.0.2:8100/", "http://10.1.0.3:8100/"], Addresses(host, PdRole.Prefill));
        Assert.Same(decode, host.FindAt("decode@10.2.0.1:8200"));

        // Scaled back to one: the removed pods leave the pool, the remaining one stays.
        resolver.Set(PrefillService, "10.1.0.3");
        await source.RefreshAsync(CancellationToken.None);

        Assert.Equal(["http://10.1.0.3:8100/"], Addresses(host, PdRole.Prefill));
        Assert.True(host.Selector.HasAvailable(PdRole.Prefill));
        Assert.Equal(["http://10.2.0.1:8200/"], Addresses(host, PdRole.Decode));
    }

    [Theory]
    [InlineData("PrefillPort", "0")]
    [InlineData("DecodePort", "70000")]
    [InlineData("BothPort", "-1")]
    public async Task InvalidRolePort_FailsAtStartNamingTheSetting(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            StartAsync(new FakeHostAddressResolver(), new() { ["Pd:Discovery:Dns:" + key] = value }));

        Assert.Contains("Pd:Discovery:Dns:" + key, error.Message, StringComparison.Ordinal);
    }
}
