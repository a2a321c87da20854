using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol;
using PdApp.Protocol.P2pNccl;
using PdApp.Proxy.Routing;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>Instances that register themselves: signed by the simulator when a secret is shared, named without their address.</summary>
public sealed class RegisteredInstanceTests
{
    private const string Secret = "registry-secret-for-tests";

    [Fact]
    public async Task SimulatorsSharingTheSecret_RegisterAndServe_WhileOneWithoutItIsRefused()
    {
        var registryPort = FreePort();
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.P2pNccl,
            [],
            [],
            [$"Pd:Registry:Port={registryPort}", "Pd:Registry:BindAddress=127.0.0.1", $"Pd:Registry:SharedSecret={Secret}"]);
        var signed = new Dictionary<string, string?> { [P2pNcclRegistrationMessage.SharedSecretVariable] = Secret };
        await using var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--kv-transfer-config", Config(KvRoles.Producer, registryPort)], signed);
        await using var decode = await SimulatorInstance.StartAsync("decode-0", ["--kv-transfer-config", Config(KvRoles.Consumer, registryPort)], signed);
        await using var stranger = await SimulatorInstance.StartAsync("decode-1", ["--kv-transfer-config", Config(KvRoles.Consumer, registryPort)]);
        var registry = proxy.Services.GetRequiredService<InstanceRegistry>();

        Assert.True(await Eventually.TrueAsync(() => registry.Instances.Count == 2, TimeSpan.FromSeconds(15)));
        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 4));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("decode-0", response.Headers.GetValues(PdHeaders.SimulatorInstance).Single());
        Assert.DoesNotContain(registry.Instances, i => i.BaseAddress.Port == stranger.BaseAddress.Port);
    }

    [Fact]
    public async Task FailingRegisteredPrefill_ErrorNamesItWithoutItsAddress()
    {
        var registryPort = FreePort();
        var deadPort = FreePort();
        await using var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.P2pNccl, [], [], [$"Pd:Registry:Port={registryPort}", "Pd:Registry:BindAddress=127.0.0.1"]);
        using var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect($"tcp://127.0.0.1:{registryPort}");
        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Prefill, $"127.0.0.1:{deadPort}", "127.0.0.1:21001").ToMsgPack());
        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Decode, $"127.0.0.1:{decode.BaseAddress.Port}", "127.0.0.1:22001").ToMsgPack());
        var registry = proxy.Services.GetRequiredService<InstanceRegistry>();
        Assert.True(await Eventually.TrueAsync(() => registry.Instances.Count == 2, TimeSpan.FromSeconds(10)));

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("prefill-r1", body);
        Assert.DoesNotContain("127.0.0.1", body);
        Assert.DoesNotContain(deadPort.ToString(System.Globalization.CultureInfo.InvariantCulture), body);
    }

    private static string Config(string role, int registryPort)
    {
        var extra = $$"""{"proxy_ip": "127.0.0.1", "proxy_port": "{{registryPort}}"}""";
        return $$"""{"kv_connector": "{{KvConnectorNames.P2pNccl}}", "kv_role": "{{role}}", "kv_ip": "127.0.0.1", "kv_port": {{FreePort()}}, "kv_connector_extra_config": {{extra}}}""";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
