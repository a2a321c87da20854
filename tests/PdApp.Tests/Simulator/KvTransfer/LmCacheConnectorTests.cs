using System.Globalization;
using System.Text.Json.Nodes;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol;
using PdApp.Protocol.LMCache;

namespace PdApp.Tests.Simulator.KvTransfer;

/// <summary>LMCache 0.3.x's PD backend as the simulator plays it: disagg_spec in, KV to the named receiver, ProxyNotif out.</summary>
public sealed class LmCacheConnectorTests : IDisposable
{
    private static readonly TimeSpan NotificationWait = TimeSpan.FromSeconds(10);
    private readonly DirectoryInfo _configs = Directory.CreateTempSubdirectory("pdsim-lmcache-");

    public void Dispose() => _configs.Delete(recursive: true);

    [Fact]
    public async Task EnvironmentConfig_SenderPushesToTheReceiverInDisaggSpec_AndNotifiesTheProxyOncePerRank()
    {
        using var proxy = new PullSocket();
        var proxyPort = proxy.BindRandomPort("tcp://127.0.0.1");
        var allocPort = RunningSimulator.FreePort();
        await using var decode = await RunningSimulator.StartAsync(Consumer(), ReceiverEnvironment(allocPort));
        await using var prefill = await RunningSimulator.StartAsync(Producer(), SenderEnvironment(proxyPort));
        var client = SimulatorHttp.Completion("Cache me if you can", maxTokens: 2);

        var (prefillResponse, _) = await PdTestFlow.PrefillAsync(prefill, client, kvTransferParams: DisaggSpec("req-1", allocPort, ranks: 2));
        var notifications = new[] { Receive(proxy), Receive(proxy) };
        var (hit, _) = await PdTestFlow.DecodeAsync(decode, client);
        var (miss, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("Not sent"));

        Assert.Equal(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.All(notifications, n => Assert.Equal("req-1", n.RequestId));
        Assert.Equal(KvTransferOutcomes.Hit, hit.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Miss, miss.KvOutcome());
    }

    [Fact]
    public async Task SenderWithoutDisaggSpec_TransfersNothing_AsLMCacheDoesForALocalRequest()
    {
        using var proxy = new PullSocket();
        var proxyPort = proxy.BindRandomPort("tcp://127.0.0.1");
        var allocPort = RunningSimulator.FreePort();
        await using var decode = await RunningSimulator.StartAsync(Consumer(), ReceiverEnvironment(allocPort));
        await using var prefill = await RunningSimulator.StartAsync(Producer(), SenderEnvironment(proxyPort));
        var client = SimulatorHttp.Completion("Nobody named a receiver", maxTokens: 2);

        var (prefillResponse, _) = await PdTestFlow.PrefillAsync(prefill, client);
        var (decoded, _) = await PdTestFlow.DecodeAsync(decode, client);

        Assert.NotEqual(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Miss, decoded.KvOutcome());
        Assert.False(proxy.TryReceiveFrameBytes(TimeSpan.FromMilliseconds(200), out _));
    }

    [Fact]
    public async Task YamlConfigFile_WithLists_SenderThenReceiver_ReceiverHits()
    {
        using var proxy = new PullSocket();
        var proxyPort = proxy.BindRandomPort("tcp://127.0.0.1");
        var allocPort = RunningSimulator.FreePort();
        string Yaml(string name, string text)
        {
            var path = Path.Combine(_configs.FullName, $"lmcache-{name}.yaml");
            File.WriteAllText(path, text);
            return path;
        }

        // The shape of LMCache's examples/disagg_prefill/1p1d configs.
        var receiver = Yaml("receiver", $"""
            local_cpu: False
            enable_pd: True
            transfer_channel: "nixl"
            pd_role: "receiver"
            pd_peer_host: "127.0.0.1"
            pd_peer_init_port: [{RunningSimulator.FreePort()}]
            pd_peer_alloc_port: [{allocPort}]
            pd_buffer_size: 1073741824
            pd_buffer_device: "cuda"
            nixl_backends: [UCX]
            """);
        var sender = Yaml("sender", $"""
            local_cpu: False
            enable_pd: True
            transfer_channel: "nixl"
            pd_role: "sender"
            pd_proxy_host: "127.0.0.1"
            pd_proxy_port: {proxyPort}
            pd_buffer_size: 1073741824
            pd_buffer_device: "cuda"
            nixl_backends: [UCX]
            """);
        await using var decode = await RunningSimulator.StartAsync(Consumer(), new Dictionary<string, string?> { ["LMCACHE_CONFIG_FILE"] = receiver });
        await using var prefill = await RunningSimulator.StartAsync(Producer(), new Dictionary<string, string?> { ["LMCACHE_CONFIG_FILE"] = sender });
        var client = SimulatorHttp.Completion("Yaml configured", maxTokens: 2);

        await PdTestFlow.PrefillAsync(prefill, client, kvTransferParams: DisaggSpec("yaml", allocPort, ranks: 1));
        var notification = Receive(proxy);
        var (after, _) = await PdTestFlow.DecodeAsync(decode, client);

        Assert.Equal("yaml", notification.RequestId);
        Assert.Equal(KvTransferOutcomes.Hit, after.KvOutcome());
    }

    [Theory]
    [InlineData("LMCACHE_PD_ROLE", "listener")]
    [InlineData("LMCACHE_TRANSFER_CHANNEL", "mooncake")]
    [InlineData("LMCACHE_PD_BUFFER_SIZE", "")]
    [InlineData("LMCACHE_PD_PEER_ALLOC_PORT", "")]
    [InlineData("LMCACHE_PD_PEER_INIT_PORT", "7300,x")]
    public void InvalidReceiverSetting_FailsAtCreateNamingTheSetting(string variable, string value)
    {
        var environment = ReceiverEnvironment(7400);
        environment[variable] = value;

        var ex = Assert.Throws<PdApp.Simulator.Configuration.SimulatorArgumentException>(() => PdApp.Simulator.SimulatorApp.Create(
            ["serve", "m", "--port", "0", "--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Consumer)],
            builder => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(builder.Configuration, environment)));

        Assert.Equal(variable, ex.Flag);
    }

    [Fact]
    public void SenderWithoutProxy_FailsAtCreateNamingTheSetting()
    {
        var environment = SenderEnvironment(7500);
        environment.Remove("LMCACHE_PD_PROXY_HOST");

        var ex = Assert.Throws<PdApp.Simulator.Configuration.SimulatorArgumentException>(() => PdApp.Simulator.SimulatorApp.Create(
            ["serve", "m", "--port", "0", "--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Producer)],
            builder => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(builder.Configuration, environment)));

        Assert.Equal("LMCACHE_PD_PROXY_HOST", ex.Flag);
    }

    private static string[] Consumer() => PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Consumer));

    private static string[] Producer() => PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Producer));

    private static Dictionary<string, string?> ReceiverEnvironment(int allocPort) => new()
    {
        ["LMCACHE_ENABLE_PD"] = "True",
        ["LMCACHE_PD_ROLE"] = "receiver",
        ["LMCACHE_TRANSFER_CHANNEL"] = "nixl",
        ["LMCACHE_PD_PEER_HOST"] = "127.0.0.1",
        ["LMCACHE_PD_PEER_INIT_PORT"] = "7300",
        ["LMCACHE_PD_PEER_ALLOC_PORT"] = allocPort.ToString(CultureInfo.InvariantCulture),
        ["LMCACHE_PD_BUFFER_SIZE"] = "1073741824",
        ["LMCACHE_PD_BUFFER_DEVICE"] = "cuda",
    };

    private static Dictionary<string, string?> SenderEnvironment(int proxyPort) => new()
    {
        ["LMCACHE_ENABLE_PD"] = "True",
        ["LMCACHE_PD_ROLE"] = "sender",
        ["LMCACHE_TRANSFER_CHANNEL"] = "nixl",
        ["LMCACHE_PD_PROXY_HOST"] = "127.0.0.1",
        ["LMCACHE_PD_PROXY_PORT"] = proxyPort.ToString(CultureInfo.InvariantCulture),
        ["LMCACHE_PD_BUFFER_SIZE"] = "1073741824",
        ["LMCACHE_PD_BUFFER_DEVICE"] = "cuda",
    };

    private static JsonObject DisaggSpec(string requestId, int allocPort, int ranks) => new()
    {
        [LMCacheDisaggSpec.Key] = new JsonObject
        {
            ["req_id"] = requestId,
            ["receiver_host"] = "127.0.0.1",
            ["receiver_init_port"] = new JsonArray([.. Enumerable.Range(7300, ranks).Select(p => (JsonNode)p)]),
            ["receiver_alloc_port"] = new JsonArray([.. Enumerable.Repeat(allocPort, ranks).Select(p => (JsonNode)p)]),
        },
    };

    private static LMCacheProxyNotification Receive(PullSocket proxy)
    {
        Assert.True(proxy.TryReceiveFrameBytes(NotificationWait, out var frame), "no ProxyNotif within the wait");
        Assert.True(LMCacheProxyNotification.TryParse(frame, out var notification, out var error), error);
        return notification!;
    }
}
