using System.Buffers;
using MessagePack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Options;
using PdApp.Proxy.Routing.P2pNccl;

namespace PdApp.Tests.Proxy.Routing;

public sealed class P2pNcclRegistryTests
{
    private static Task<RoutingHost> StartAsync() => RoutingHost.StartAsync(new Dictionary<string, string?>
    {
        ["Pd:Registry:Port"] = "0",
        ["Pd:Registry:BindAddress"] = "127.0.0.1",
        ["Pd:Registry:ExpirySeconds"] = "30",
    });

    /// <summary>What vLLM's P2pNcclEngine sends: msgpack.dumps({"type", "http_address", "zmq_address"}).</summary>
    private static byte[] Registration(string type, string http, string zmq, bool asBinary = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(3);
        foreach (var (key, value) in new[] { ("type", type), ("http_address", http), ("zmq_address", zmq) })
        {
            writer.Write(key);
            if (asBinary)
            {
                writer.Write(System.Text.Encoding.UTF8.GetBytes(value));
            }
            else
            {
                writer.Write(value);
            }
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<DealerSocket> ConnectAsync(RoutingHost host, string identity)
    {
        var port = await host.Services.GetRequiredService<P2pNcclRegistryService>().BoundPort.WaitAsync(TimeSpan.FromSeconds(5));
        var dealer = new DealerSocket();
        dealer.Options.Identity = System.Text.Encoding.UTF8.GetBytes(identity);
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect($"tcp://127.0.0.1:{port}");
        return dealer;
    }

    [Fact]
    public async Task DealerRegistration_AddsPrefillAndDecodeInstances()
    {
        await using var host = await StartAsync();
        using var prefill = await ConnectAsync(host, "127.0.0.1:21001");
        using var decode = await ConnectAsync(host, "127.0.0.1:22001");

        prefill.SendFrame(Registration("P", "127.0.0.1:20003", "127.0.0.1:21001"));
        decode.SendFrame(Registration("D", "127.0.0.1:20005", "127.0.0.1:22001"));

        Assert.True(await Eventually.TrueAsync(() => host.Registry.Instances.Count == 2));
        var p = host.FindAt("prefill@127.0.0.1:20003");
        var d = host.FindAt("decode@127.0.0.1:20005");
        Assert.NotNull(p);
        Assert.NotNull(d);
        Assert.Equal((PdRole.Prefill, InstanceSource.Registry, new Uri("http://127.0.0.1:20003/"), "127.0.0.1:21001"), (p.Role, p.Source, p.BaseAddress, p.KvAddress));
        Assert.Equal((PdRole.Decode, InstanceSource.Registry, new Uri("http://127.0.0.1:20005/"), "127.0.0.1:22001"), (d.Role, d.Source, d.BaseAddress, d.KvAddress));
        Assert.True(host.Selector.HasAvailable(PdRole.Prefill));
        Assert.True(host.Selector.HasAvailable(PdRole.Decode));
    }

    [Fact]
    public async Task SilentInstance_ExpiresAfterFiveSeconds_WhilePingingOneStays()
    {
        var clock = new ManualClock();
        await using var host = await RoutingHost.StartAsync(
            new Dictionary<string, string?> { ["Pd:Registry:Port"] = "0", ["Pd:Registry:BindAddress"] = "127.0.0.1" },
            services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock)));
        using var dealer = await ConnectAsync(host, "127.0.0.1:21001");
        dealer.SendFrame(Registration("P", "127.0.0.1:20003", "127.0.0.1:21001"));
        dealer.SendFrame(Registration("D", "127.0.0.1:20005", "127.0.0.1:22001"));
        Assert.True(await Eventually.TrueAsync(() => host.Registry.Instances.Count == 2));
        var decode = host.FindAt("decode@127.0.0.1:20005");

        // 3 s later (vLLM's ping interval) only the decode instance pings. A marker registration
        // sent after it on the same connection tells the test the ping has been processed.
        clock.Advance(TimeSpan.FromSeconds(3));
        dealer.SendFrame(Registration("D", "127.0.0.1:20005", "127.0.0.1:22001"));
        dealer.SendFrame(Registration("D", "127.0.0.1:20007", "127.0.0.1:22002"));
        Assert.True(await Eventually.TrueAsync(() => host.FindAt("decode@127.0.0.1:20007") is not null));

        // At 6 s the prefill instance has been silent for more than 5 s; the decode instance for 3 s.
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.True(await Eventually.TrueAsync(() => host.FindAt("prefill@127.0.0.1:20003") is null));
        Assert.Same(decode, host.FindAt("decode@127.0.0.1:20005"));
        Assert.False(host.Selector.HasAvailable(PdRole.Prefill));

        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.True(await Eventually.TrueAsync(() => host.Registry.Instances.Count == 0));
    }

    [Fact]
    public async Task WithActiveHealthChecks_RegisteredInstanceServesOnlyAfterItsFirstPassingProbe()
    {
        await using var engine = await HealthToggleServer.StartAsync();
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>
        {
            ["Pd:Registry:Port"] = "0",
            ["Pd:Registry:BindAddress"] = "127.0.0.1",
            ["Pd:Proxy:Health:Enabled"] = "true",
            ["Pd:Proxy:Health:IntervalSeconds"] = "3600",
        });
        using var dealer = await ConnectAsync(host, "127.0.0.1:21001");

        // The decode engine still loads its model: it pings, but its HTTP port is closed.
        dealer.SendFrame(Registration("D", $"127.0.0.1:{closedPort}", "127.0.0.1:22001"));
        Assert.True(await Eventually.TrueAsync(() => host.FindAt($"decode@127.0.0.1:{closedPort}") is not null));
        Assert.False(host.Selector.HasAvailable(PdRole.Decode));

        // The prefill engine serves: its first probe admits it.
        dealer.SendFrame(Registration("P", $"127.0.0.1:{engine.BaseAddress.Port}", "127.0.0.1:21001"));
        Assert.True(await Eventually.TrueAsync(() => host.Selector.HasAvailable(PdRole.Prefill)));
        Assert.True(engine.Probes >= 1);
        Assert.False(host.Selector.HasAvailable(PdRole.Decode));
    }

    [Fact]
    public void P2pNcclConnectorWithoutPort_ListensOnVllmsDefaultPort()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [PdProxySettings.Connector] = KvConnectorNames.P2pNccl })
            .Build();
        services.AddPdRouting(configuration);
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<P2pNcclRegistryOptions>>().Value;

        Assert.True(options.Enabled);
        Assert.Null(options.Port);
        Assert.Equal(30001, P2pNcclRegistryOptions.DefaultPort);
    }

    [Fact]
    public async Task MalformedMessages_AreIgnored_AndValidOnesStillRegister()
    {
        await using var host = await StartAsync();
        using var dealer = await ConnectAsync(host, "127.0.0.1:21001");

        dealer.SendFrame("not msgpack at all"u8.ToArray());
        dealer.SendFrame(Registration("X", "127.0.0.1:20003", "127.0.0.1:21001"));
        dealer.SendFrame(Registration("P", "no-port", "127.0.0.1:21001"));
        dealer.SendMoreFrame("two").SendFrame("frames");
        dealer.SendFrame(Registration("P", "127.0.0.1:20003", "127.0.0.1:21001"));

        Assert.True(await Eventually.TrueAsync(() => host.Registry.Instances.Count == 1));
        Assert.Equal("prefill-r1", host.Registry.Instances.Single().Name);
    }

    [Fact]
    public async Task RegistryIsOff_WhenNeitherPortNorP2pNcclConnectorIsConfigured()
    {
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>());

        // Not even built: its type would load NetMQ into a proxy that has no use for it.
        Assert.Null(host.Services.GetService<P2pNcclRegistryService>());
        Assert.DoesNotContain(host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>(), s => s is P2pNcclRegistryService);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Parse_AcceptsStrAndBinStrings(bool asBinary)
    {
        Assert.True(P2pNcclRegistration.TryParse(Registration("D", "10.0.0.2:8200", "10.0.0.2:22001", asBinary), out var registration, out var error), error);

        Assert.Equal(new PdApp.Protocol.P2pNccl.P2pNcclRegistrationMessage(PdRole.Decode, "10.0.0.2:8200", "10.0.0.2:22001"), registration);
    }

    [Fact]
    public void Parse_NonMap_ExplainsWhy()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.Write("P");
        writer.Flush();

        Assert.False(P2pNcclRegistration.TryParse(buffer.WrittenMemory, out _, out var error));
        Assert.Contains("map", error, StringComparison.Ordinal);
    }
}
