using PdApp.Protocol;

namespace PdApp.Tests.Simulator.KvTransfer;

public sealed class MultiConnectorTests : IDisposable
{
    private static readonly Dictionary<string, string?> DynamicSideChannel = new() { ["VLLM_NIXL_SIDE_CHANNEL_PORT"] = "0", ["VLLM_NIXL_SIDE_CHANNEL_HOST"] = "127.0.0.1" };
    private readonly DirectoryInfo _storage = Directory.CreateTempSubdirectory("pdsim-multi-");

    public void Dispose() => _storage.Delete(recursive: true);

    private Task<RunningSimulator> StartAsync(string role)
    {
        var extra = $$$"""{"connectors":[{"kv_connector":"NixlConnector","kv_role":"kv_both"},{"kv_connector":"SharedStorageConnector","kv_connector_extra_config":{"shared_storage_path":"{{{_storage.FullName}}}"}}]}""";
        return RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.Multi, role, extra)), DynamicSideChannel);
    }

    [Fact]
    public async Task ProducerSavesThroughAllChildren_ConsumerLoadsFromTheFirstThatHasIt()
    {
        await using var prefill = await StartAsync(KvRoles.Producer);
        await using var decode = await StartAsync(KvRoles.Consumer);
        var client = SimulatorHttp.Completion(PdTestFlow.LongPrompt("compilers"), maxTokens: 2);

        var (prefillResponse, prefillBody) = await PdTestFlow.PrefillAsync(prefill, client, kvTransferParams: PdTestFlow.NixlPrefillParams());
        var kvParams = prefillBody["kv_transfer_params"]!.AsObject();
        var (viaNixl, _) = await PdTestFlow.DecodeAsync(decode, client, kvTransferParams: kvParams);
        var (viaSharedStorage, _) = await PdTestFlow.DecodeAsync(decode, client);
        var (miss, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion(PdTestFlow.LongPrompt("databases")));

        Assert.Equal(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.True((bool)kvParams["do_remote_prefill"]!);
        Assert.Single(_storage.GetDirectories());
        Assert.Equal(KvTransferOutcomes.Hit, viaNixl.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Hit, viaSharedStorage.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Miss, miss.KvOutcome());
        var metrics = await decode.Client.MetricsAsync();
        Assert.Equal(2, SimulatorHttp.Metric(metrics, "pdsim:kv_transfer_hits_total{model_name=\"dp7b\",connector=\"MultiConnector\"}"));
    }

    [Fact]
    public void MultiConnectorWithoutChildren_FailsAtCreate()
    {
        var ex = Assert.Throws<PdApp.Simulator.Configuration.SimulatorArgumentException>(() => PdApp.Simulator.SimulatorApp.Create(
            ["serve", "m", "--port", "0", "--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.Multi, KvRoles.Both)]));

        Assert.Contains("connectors", ex.Message, StringComparison.Ordinal);
    }
}
