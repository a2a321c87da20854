using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Discovery;

namespace PdApp.Tests.Proxy.Routing;

public sealed class DnsDiscoveryTests
{
    private static Task<RoutingHost> StartAsync(IHostAddressResolver? resolver, string prefillHost = "prefill.pdapp.svc.cluster.local") =>
        RoutingHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Pd:Discovery:Dns:Prefill"] = prefillHost,
                ["Pd:Discovery:Dns:Decode"] = "decode.pdapp.svc.cluster.local",
                ["Pd:Discovery:Dns:Port"] = "8000",
                ["Pd:Discovery:Dns:IntervalSeconds"] = "3600",
            },
            services =>
            {
                if (resolver is not null)
                {
                    services.Replace(ServiceDescriptor.Singleton(resolver));
                }
            });

    // {role}@{address} of each instance: they are named without their address (prefill-d1), so tests read the address.
    private static string[] Names(RoutingHost host, PdRole role) =>
        [.. host.Registry.GetInstances(role).Select(RoutingHost.Describe).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task PodsComeAndGo_InstancesFollowTheRecords()
    {
        var resolver = new FakeResolver();
        resolver.Set("prefill.pdapp.svc.cluster.local", "10.1.0.1", "10.1.0.2");
        resolver.Set("decode.pdapp.svc.cluster.local", "10.2.0.1", "fd00::5");
        await using var host = await StartAsync(resolver);
        var source = host.Services.GetRequiredService<DnsInstanceSource>();

        Assert.Equal(["prefill@10.1.0.1:8000", "prefill@10.1.0.2:8000"], Names(host, PdRole.Prefill));
        Assert.Equal(["decode@10.2.0.1:8000", "decode@[fd00::5]:8000"], Names(host, PdRole.Decode));
        Assert.Equal(new Uri("http://[fd00::5]:8000/"), host.FindAt("decode@[fd00::5]:8000")!.BaseAddress);
        Assert.All(host.Registry.Instances, i => Assert.Equal(InstanceSource.Dns, i.Source));
        Assert.All(host.Registry.Instances, i => Assert.Matches("^(prefill|decode)-d[0-9]+$", i.Name));
        var kept = host.FindAt("prefill@10.1.0.2:8000");

        // A pod is replaced: 10.1.0.1 goes, 10.1.0.3 comes; the surviving pod keeps its state.
        resolver.Set("prefill.pdapp.svc.cluster.local", "10.1.0.2", "10.1.0.3");
        await source.RefreshAsync(CancellationToken.None);

        Assert.Equal(["prefill@10.1.0.2:8000", "prefill@10.1.0.3:8000"], Names(host, PdRole.Prefill));
        Assert.Same(kept, host.FindAt("prefill@10.1.0.2:8000"));
        Assert.Equal(2, Names(host, PdRole.Decode).Length);

        // The last prefill pod goes away (NXDOMAIN resolves to no records).
        resolver.Set("prefill.pdapp.svc.cluster.local");
        await source.RefreshAsync(CancellationToken.None);

        Assert.Empty(Names(host, PdRole.Prefill));
        Assert.False(host.Selector.HasAvailable(PdRole.Prefill));
    }

    [Fact]
    public async Task FailedLookup_KeepsThePreviousInstances()
    {
        var resolver = new FakeResolver();
        resolver.Set("prefill.pdapp.svc.cluster.local", "10.1.0.1");
        resolver.Set("decode.pdapp.svc.cluster.local", "10.2.0.1");
        await using var host = await StartAsync(resolver);

        resolver.Fail = true;
        await host.Services.GetRequiredService<DnsInstanceSource>().RefreshAsync(CancellationToken.None);

        Assert.Equal(["prefill@10.1.0.1:8000"], Names(host, PdRole.Prefill));
        Assert.Equal(["decode@10.2.0.1:8000"], Names(host, PdRole.Decode));
    }

    [Fact]
    public async Task SystemResolver_LocalhostYieldsLoopbackInstances()
    {
        await using var host = await StartAsync(resolver: null, prefillHost: "localhost");

        var prefill = host.Registry.GetInstances(PdRole.Prefill);

        Assert.NotEmpty(prefill);
        Assert.All(prefill, i => Assert.True(IPAddress.IsLoopback(IPAddress.Parse(i.BaseAddress.Host.Trim('[', ']')))));
        Assert.All(prefill, i => Assert.Equal(8000, i.BaseAddress.Port));
    }

    private sealed class FakeResolver : IHostAddressResolver
    {
        private readonly Dictionary<string, IPAddress[]> _records = new(StringComparer.OrdinalIgnoreCase);

        public volatile bool Fail;

        public void Set(string host, params string[] addresses)
        {
            lock (_records)
            {
                _records[host] = [.. addresses.Select(IPAddress.Parse)];
            }
        }

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new SocketException((int)SocketError.TryAgain);
            }

            lock (_records)
            {
                return Task.FromResult(_records.TryGetValue(host, out var addresses) ? addresses : []);
            }
        }
    }
}
