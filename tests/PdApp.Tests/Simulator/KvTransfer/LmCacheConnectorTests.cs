using PdApp.Protocol;

namespace PdApp.Tests.Simulator.KvTransfer;

public sealed class LmCacheConnectorTests : IDisposable
{
    private readonly DirectoryInfo _configs = Directory.CreateTempSubdirectory("pdsim-lmcache-");

    public void Dispose() => _configs.Delete(recursive: true);

    [Fact]
    public async Task EnvironmentConfig_SenderThenReceiver_ReceiverHits()
    {
        var port = RunningSimulator.FreePort();
        Dictionary<string, string?> Env(string role) => new()
        {
            ["LMCACHE_ENABLE_NIXL"] = "True",
            ["LMCACHE_NIXL_ROLE"] = role,
            ["LMCACHE_NIXL_RECEIVER_HOST"] = "127.0.0.1",
            ["LMCACHE_NIXL_RECEIVER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["LMCACHE_NIXL_BUFFER_SIZE"] = "1073741824",
            ["LMCACHE_NIXL_BUFFER_DEVICE"] = "cuda",
        };
        await using var decode = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Consumer)), Env("receiver"));
        await using var prefill = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Producer)), Env("sender"));
        var client = SimulatorHttp.Completion("Cache me if you can", maxTokens: 2);

        var (prefillResponse, _) = await PdTestFlow.PrefillAsync(prefill, client);
        var (hit, _) = await PdTestFlow.DecodeAsync(decode, client);
        var (miss, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("Not sent"));

        Assert.Equal(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Hit, hit.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Miss, miss.KvOutcome());
    }

    [Fact]
    public async Task YamlConfigFile_SenderThenReceiver_ReceiverHits_WithoutSenderMisses()
    {
        var port = RunningSimulator.FreePort();
        string Yaml(string role)
        {
            var path = Path.Combine(_configs.FullName, $"lmcache-{role}.yaml");
            File.WriteAllText(path, $"""
                local_cpu: False
                max_local_cpu_size: 0
                enable_nixl: True
                nixl_role: "{role}"
                nixl_receiver_host: "127.0.0.1"
                nixl_receiver_port: {port}
                nixl_buffer_size: 1073741824
                nixl_buffer_device: "cuda"
                nixl_enable_gc: True
                """);
            return path;
        }

        await using var decode = await RunningSimulator.StartAsync(
            PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Consumer)),
            new Dictionary<string, string?> { ["LMCACHE_CONFIG_FILE"] = Yaml("receiver") });
        var (before, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("Yaml configured"));
        await using var prefill = await RunningSimulator.StartAsync(
            PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Producer)),
            new Dictionary<string, string?> { ["LMCACHE_CONFIG_FILE"] = Yaml("sender") });
        var client = SimulatorHttp.Completion("Yaml configured, again", maxTokens: 2);

        await PdTestFlow.PrefillAsync(prefill, client);
        var (after, _) = await PdTestFlow.DecodeAsync(decode, client);

        Assert.Equal(KvTransferOutcomes.Miss, before.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Hit, after.KvOutcome());
    }

    [Fact]
    public void InvalidRole_FailsAtCreateNamingTheSetting()
    {
        var ex = Assert.Throws<PdApp.Simulator.Configuration.SimulatorArgumentException>(() => PdApp.Simulator.SimulatorApp.Create(
            ["serve", "m", "--port", "0", "--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.LMCacheV1, KvRoles.Consumer)],
            builder => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(
                builder.Configuration,
                new Dictionary<string, string?> { ["LMCACHE_ENABLE_NIXL"] = "True", ["LMCACHE_NIXL_ROLE"] = "listener" })));

        Assert.Equal("LMCACHE_NIXL_ROLE", ex.Flag);
    }
}
