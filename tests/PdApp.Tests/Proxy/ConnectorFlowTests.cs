using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>
/// Each connector's PD flow end to end: the simulators really move the KV across loopback the way
/// the connector does, and the decode instance reports (X-PdSim-Kv-Transfer, relayed by the proxy)
/// that it found the KV the prefill instance produced instead of prefilling again.
/// </summary>
public sealed class ConnectorFlowTests : IDisposable
{
    // Longer than one KV block (16 tokens) plus one: SharedStorage transfers whole blocks only.
    private static readonly string LongPrompt = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 8));

    private readonly string _storage = Directory.CreateTempSubdirectory("pdapp-proxy-kv-").FullName;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SharedStorage_DecodeFindsTheKvPrefillWrote(bool stream)
    {
        await using var proxy = await StartPairAsync(
            KvConnectorNames.SharedStorage,
            Config(KvConnectorNames.SharedStorage, KvRoles.Producer, extra: $$"""{"shared_storage_path": "{{_storage}}"}"""),
            Config(KvConnectorNames.SharedStorage, KvRoles.Consumer, extra: $$"""{"shared_storage_path": "{{_storage}}"}"""));

        await AssertDecodeHitAsync(proxy, KvConnectorNames.SharedStorage, stream);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Nixl_KvTransferParamsCarryTheKvToDecode(bool stream)
    {
        var sideChannel = new Dictionary<string, string?> { ["VLLM_NIXL_SIDE_CHANNEL_PORT"] = "0", ["VLLM_NIXL_SIDE_CHANNEL_HOST"] = "localhost" };
        await using var proxy = await StartPairAsync(
            KvConnectorNames.Nixl,
            Config(KvConnectorNames.Nixl, KvRoles.Both),
            Config(KvConnectorNames.Nixl, KvRoles.Both),
            prefillEnvironment: sideChannel,
            decodeEnvironment: sideChannel);

        await AssertDecodeHitAsync(proxy, KvConnectorNames.Nixl, stream);
    }

    [Fact]
    public async Task Nixl_ChatRequest_DecodeFindsTheKv()
    {
        var sideChannel = new Dictionary<string, string?> { ["VLLM_NIXL_SIDE_CHANNEL_PORT"] = "0" };
        await using var proxy = await StartPairAsync(
            KvConnectorNames.Nixl, Config(KvConnectorNames.Nixl, KvRoles.Both), Config(KvConnectorNames.Nixl, KvRoles.Both), sideChannel, sideChannel);

        using var response = await proxy.PostAsync(
            "/v1/chat/completions",
            $$"""{"model": "{{ProxyFixture.Model}}", "messages": [{"role": "user", "content": "{{LongPrompt}}"}], "max_tokens": 6, "min_tokens": 2}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(KvTransferOutcomes.Hit, response.Headers.GetValues(PdHeaders.SimulatorKvTransfer).Single());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task P2pNccl_RequestIdNamesBothPeersAndDecodeGetsThePushedKv(bool stream)
    {
        var prefillPort = FreePort();
        var decodePort = FreePort();
        await using var proxy = await StartPairAsync(
            KvConnectorNames.P2pNccl,
            Config(KvConnectorNames.P2pNccl, KvRoles.Producer, kvPort: prefillPort),
            Config(KvConnectorNames.P2pNccl, KvRoles.Consumer, kvPort: decodePort),
            prefillKvAddress: $"127.0.0.1:{prefillPort}",
            decodeKvAddress: $"127.0.0.1:{decodePort}",
            settings: ["Pd:Registry:Port=0", "Pd:Registry:BindAddress=127.0.0.1"]);

        await AssertDecodeHitAsync(proxy, KvConnectorNames.P2pNccl, stream);
    }

    [Fact]
    public async Task P2pNccl_InstancesRegisteredOverZmq_ServeWithoutConfiguredInstances()
    {
        // vLLM's xPyD example: instances announce themselves to the proxy's ZeroMQ registry.
        var registryPort = FreePort();
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.P2pNccl, [], [], [$"Pd:Registry:Port={registryPort}", "Pd:Registry:BindAddress=127.0.0.1"]);
        var extra = $$"""{"proxy_ip": "127.0.0.1", "proxy_port": "{{registryPort}}"}""";
        await using var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--kv-transfer-config", Config(KvConnectorNames.P2pNccl, KvRoles.Producer, kvPort: FreePort(), extra: extra)]);
        await using var decode = await SimulatorInstance.StartAsync("decode-0", ["--kv-transfer-config", Config(KvConnectorNames.P2pNccl, KvRoles.Consumer, kvPort: FreePort(), extra: extra)]);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await proxy.Client.GetAsync("/health")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await AssertDecodeHitAsync(proxy, KvConnectorNames.P2pNccl, stream: true);
    }

    [Fact]
    public async Task PyNccl_OneProducerOneConsumer_DecodeFindsTheKv()
    {
        var port = FreePort();
        await using var proxy = await StartPairAsync(
            KvConnectorNames.PyNccl,
            Config(KvConnectorNames.PyNccl, KvRoles.Producer, kvPort: port, rank: 0),
            Config(KvConnectorNames.PyNccl, KvRoles.Consumer, kvPort: port, rank: 1));

        await AssertDecodeHitAsync(proxy, KvConnectorNames.PyNccl, stream: true);
    }

    [Fact]
    public async Task LMCache_ProxyNamesTheReceiver_SenderPushesAndNotifies_DecodeFindsTheKv()
    {
        static string Text(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (notificationPort, initPort, allocPort) = (FreePort(), FreePort(), FreePort());
        Dictionary<string, string?> Env(string role) => new()
        {
            ["LMCACHE_ENABLE_PD"] = "True",
            ["LMCACHE_PD_ROLE"] = role,
            ["LMCACHE_TRANSFER_CHANNEL"] = "nixl",
            ["LMCACHE_PD_BUFFER_SIZE"] = "1073741824",
            ["LMCACHE_PD_BUFFER_DEVICE"] = "cuda",
            ["LMCACHE_PD_PEER_HOST"] = "127.0.0.1",
            ["LMCACHE_PD_PEER_INIT_PORT"] = Text(initPort),
            ["LMCACHE_PD_PEER_ALLOC_PORT"] = Text(allocPort),
            ["LMCACHE_PD_PROXY_HOST"] = "127.0.0.1",
            ["LMCACHE_PD_PROXY_PORT"] = Text(notificationPort),
        };
        await using var proxy = await StartPairAsync(
            KvConnectorNames.LMCacheV1,
            Config(KvConnectorNames.LMCacheV1, KvRoles.Producer),
            Config(KvConnectorNames.LMCacheV1, KvRoles.Consumer),
            Env("sender"),
            Env("receiver"),
            decodeKvAddress: $"127.0.0.1:{Text(initPort)}",
            settings:
            [
                $"{PdProxySettings.LMCacheNotificationPort}={Text(notificationPort)}",
                "Pd:LMCache:BindAddress=127.0.0.1",
                $"{PdProxySettings.LMCacheAllocPort}={Text(allocPort)}",

                // A lost notification would show as a 30 s stall; a delivered one releases decode at once.
                "Pd:LMCache:KvReadyTimeoutSeconds=30",
            ]);

        var started = System.Diagnostics.Stopwatch.StartNew();
        await AssertDecodeHitAsync(proxy, KvConnectorNames.LMCacheV1, stream: true);

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(25), $"decode waited for a notification that never came ({started.Elapsed})");
    }

    [Fact]
    public async Task Multi_NixlAndSharedStorage_DecodeFindsTheKv()
    {
        var children = $$$"""{"connectors": [{"kv_connector": "{{{KvConnectorNames.Nixl}}}", "kv_role": "kv_both"}, {"kv_connector": "{{{KvConnectorNames.SharedStorage}}}", "kv_role": "kv_both", "kv_connector_extra_config": {"shared_storage_path": "{{{_storage}}}"}}]}""";
        var sideChannel = new Dictionary<string, string?> { ["VLLM_NIXL_SIDE_CHANNEL_PORT"] = "0" };
        await using var proxy = await StartPairAsync(
            KvConnectorNames.Multi,
            Config(KvConnectorNames.Multi, KvRoles.Both, extra: children),
            Config(KvConnectorNames.Multi, KvRoles.Both, extra: children),
            sideChannel,
            sideChannel,
            settings: [$"{PdProxySettings.ChildConnectors}:0={KvConnectorNames.Nixl}", $"{PdProxySettings.ChildConnectors}:1={KvConnectorNames.SharedStorage}"]);

        await AssertDecodeHitAsync(proxy, KvConnectorNames.Multi, stream: true);
    }

    [Fact]
    public async Task PromptUnderSkipThreshold_DecodePrefillsItselfAndNoTransferIsExpected()
    {
        await using var proxy = await StartPairAsync(
            KvConnectorNames.SharedStorage,
            Config(KvConnectorNames.SharedStorage, KvRoles.Producer, extra: $$"""{"shared_storage_path": "{{_storage}}"}"""),
            Config(KvConnectorNames.SharedStorage, KvRoles.Consumer, extra: $$"""{"shared_storage_path": "{{_storage}}"}"""),
            settings: ["Pd:Proxy:Disaggregation:SkipPrefillBelowTokens=10000"]);

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion(prompt: LongPrompt));

        Assert.Equal(KvTransferOutcomes.Miss, response.Headers.GetValues(PdHeaders.SimulatorKvTransfer).Single());
        Assert.Equal(0, proxy.Metrics.Sum("pdapp.proxy.kv_transfers.expected"));
    }

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(_storage, recursive: true);

    private static async Task AssertDecodeHitAsync(ProxyFixture proxy, string connector, bool stream)
    {
        using var response = await proxy.PostAsync(
            "/v1/completions",
            $$"""{"model": "{{ProxyFixture.Model}}", "prompt": "{{LongPrompt}}", "max_tokens": 6, "stream": {{(stream ? "true" : "false")}}}""",
            completion: HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        Assert.Equal("decode-0", response.Headers.GetValues(PdHeaders.SimulatorInstance).Single());
        Assert.Equal(KvTransferOutcomes.Hit, response.Headers.GetValues(PdHeaders.SimulatorKvTransfer).Single());
        if (!stream)
        {
            using var json = JsonDocument.Parse(body);
            Assert.Equal(6, json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        }

        Assert.Equal(1, await proxy.Metrics.WaitForAsync("pdapp.proxy.kv_transfers.confirmed", 1, "connector", connector));
        Assert.Equal(1, proxy.Metrics.Sum("pdapp.proxy.kv_transfers.expected", "connector", connector));
        Assert.True(proxy.Metrics.Sum("pdapp.proxy.prefill.duration", "outcome", "succeeded") > 0);
    }

    private static async Task<ProxyFixture> StartPairAsync(
        string connector,
        string prefillConfig,
        string decodeConfig,
        IDictionary<string, string?>? prefillEnvironment = null,
        IDictionary<string, string?>? decodeEnvironment = null,
        string? prefillKvAddress = null,
        string? decodeKvAddress = null,
        string[]? settings = null)
    {
        // PyNccl's consumer joins the producer's group at start-up, so both start together.
        var prefillTask = SimulatorInstance.StartAsync("prefill-0", ["--kv-transfer-config", prefillConfig], prefillEnvironment);
        var decodeTask = SimulatorInstance.StartAsync("decode-0", ["--kv-transfer-config", decodeConfig], decodeEnvironment);
        var prefill = await prefillTask;
        var decode = await decodeTask;
        await WaitUntilHealthyAsync(prefill);
        await WaitUntilHealthyAsync(decode);
        return await ProxyFixture.StartAsync(
            connector, [Upstream.Of(prefill, prefillKvAddress)], [Upstream.Of(decode, decodeKvAddress)], settings);
    }

    private static async Task WaitUntilHealthyAsync(SimulatorInstance instance)
    {
        using var client = new HttpClient { BaseAddress = instance.BaseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await client.GetAsync("/health")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    private static string Config(string connector, string role, int? kvPort = null, int? rank = null, string? extra = null)
    {
        var fields = new List<string> { $"\"kv_connector\": \"{connector}\"", $"\"kv_role\": \"{role}\"" };
        if (kvPort is { } port)
        {
            fields.Add($"\"kv_ip\": \"127.0.0.1\"");
            fields.Add($"\"kv_port\": {port}");
        }

        if (rank is { } r)
        {
            fields.Add($"\"kv_rank\": {r}");
            fields.Add("\"kv_parallel_size\": 2");
        }

        if (extra is not null)
        {
            fields.Add($"\"kv_connector_extra_config\": {extra}");
        }

        return "{" + string.Join(", ", fields) + "}";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
