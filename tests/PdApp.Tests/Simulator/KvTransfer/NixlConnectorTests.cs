using System.Text.Json.Nodes;
using PdApp.Protocol;

namespace PdApp.Tests.Simulator.KvTransfer;

public sealed class NixlConnectorTests
{
    private static readonly Dictionary<string, string?> DynamicSideChannel = new() { ["VLLM_NIXL_SIDE_CHANNEL_PORT"] = "0", ["VLLM_NIXL_SIDE_CHANNEL_HOST"] = "127.0.0.1" };

    private static Task<RunningSimulator> StartAsync() =>
        RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.Nixl, KvRoles.Both)), DynamicSideChannel);

    [Fact]
    public async Task PrefillThenDecodeWithCopiedParams_DecodeHits_AndPinnedKvIsFreed()
    {
        await using var prefill = await StartAsync();
        await using var decode = await StartAsync();
        var client = SimulatorHttp.Completion("Explain KV cache transfer", maxTokens: 4);

        var (prefillResponse, prefillBody) = await PdTestFlow.PrefillAsync(prefill, client, kvTransferParams: PdTestFlow.NixlPrefillParams());
        var kvParams = prefillBody["kv_transfer_params"]!.AsObject();
        var pinned = SimulatorHttp.Metric(await prefill.Client.MetricsAsync(), "vllm:kv_cache_usage_perc");
        var (decodeResponse, decodeBody) = await PdTestFlow.DecodeAsync(decode, client, kvTransferParams: kvParams);
        var afterRead = SimulatorHttp.Metric(await prefill.Client.MetricsAsync(), "vllm:kv_cache_usage_perc");

        Assert.Equal(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.True((bool)kvParams["do_remote_prefill"]!);
        Assert.False((bool)kvParams["do_remote_decode"]!);
        Assert.Equal("127.0.0.1", (string?)kvParams["remote_host"]);
        Assert.True((int)kvParams["remote_port"]! > 0);
        Assert.NotEmpty(kvParams["remote_block_ids"]!.AsArray());
        Assert.False(string.IsNullOrEmpty((string?)kvParams["remote_engine_id"]));
        Assert.Equal(1, (int)kvParams["tp_size"]!);
        Assert.True(pinned > 0, "the producer keeps the KV pinned until it is read");
        Assert.Equal(KvTransferOutcomes.Hit, decodeResponse.KvOutcome());
        Assert.Equal(4, (int)decodeBody["usage"]!["completion_tokens"]!);
        Assert.Equal(0, afterRead);
    }

    [Fact]
    public async Task DecodeWithParamsForUnknownBlocks_Misses_AndReusedParamsMissToo()
    {
        await using var prefill = await StartAsync();
        await using var decode = await StartAsync();
        var client = SimulatorHttp.Completion("Read me once", maxTokens: 2);
        var (_, prefillBody) = await PdTestFlow.PrefillAsync(prefill, client, kvTransferParams: PdTestFlow.NixlPrefillParams());
        var kvParams = prefillBody["kv_transfer_params"]!.AsObject();
        var bogus = kvParams.DeepClone().AsObject();
        bogus["remote_block_ids"] = new JsonArray(9999, 10000);

        var (bogusResponse, _) = await PdTestFlow.DecodeAsync(decode, client, kvTransferParams: bogus);
        var (first, _) = await PdTestFlow.DecodeAsync(decode, client, kvTransferParams: kvParams);
        var (second, _) = await PdTestFlow.DecodeAsync(decode, client, kvTransferParams: kvParams);

        Assert.Equal(KvTransferOutcomes.Miss, bogusResponse.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Hit, first.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Miss, second.KvOutcome());
    }

    [Fact]
    public async Task DecodeOfAnotherPromptWithTheseParams_Misses()
    {
        await using var prefill = await StartAsync();
        await using var decode = await StartAsync();
        var (_, prefillBody) = await PdTestFlow.PrefillAsync(prefill, SimulatorHttp.Completion("Prompt A"), kvTransferParams: PdTestFlow.NixlPrefillParams());

        var (response, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("Prompt B"), kvTransferParams: prefillBody["kv_transfer_params"]!.AsObject());

        Assert.Equal(KvTransferOutcomes.Miss, response.KvOutcome());
    }

    [Fact]
    public async Task PinnedKvNeverRead_IsFreedAfterTheAbortTimeout_ThenDecodeMisses()
    {
        var shortTimeout = new Dictionary<string, string?>(DynamicSideChannel) { ["VLLM_NIXL_ABORT_REQUEST_TIMEOUT"] = "1" };
        await using var prefill = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.Nixl, KvRoles.Both)), shortTimeout);
        await using var decode = await StartAsync();
        var client = SimulatorHttp.Completion("Abandoned between prefill and decode");
        var (_, prefillBody) = await PdTestFlow.PrefillAsync(prefill, client, kvTransferParams: PdTestFlow.NixlPrefillParams());
        var pinned = SimulatorHttp.Metric(await prefill.Client.MetricsAsync(), "vllm:kv_cache_usage_perc");

        var freed = pinned;
        // 1 s: long enough that the pin is still there when read right after prefill on a loaded machine.
        for (var i = 0; i < 80 && freed > 0; i++)
        {
            await Task.Delay(100);
            freed = SimulatorHttp.Metric(await prefill.Client.MetricsAsync(), "vllm:kv_cache_usage_perc");
        }

        var (late, _) = await PdTestFlow.DecodeAsync(decode, client, kvTransferParams: prefillBody["kv_transfer_params"]!.AsObject());

        Assert.True(pinned > 0);
        Assert.Equal(0, freed);
        Assert.Equal(KvTransferOutcomes.Miss, late.KvOutcome());
    }

    [Fact]
    public async Task WithoutKvTransferParams_ServesPlainly()
    {
        await using var decode = await StartAsync();

        var (response, body) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("No PD here"));

        Assert.Equal(KvTransferOutcomes.None, response.KvOutcome());
        Assert.Null(body["kv_transfer_params"]);
    }
}
