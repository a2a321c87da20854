using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PdApp.Tests.Simulator;
using PdApp.Protocol;

namespace PdApp.Tests.Simulator.KvTransfer;

public sealed class SharedStorageConnectorTests : IDisposable
{
    private readonly DirectoryInfo _storage = Directory.CreateTempSubdirectory("pdsim-shared-");

    public void Dispose() => _storage.Delete(recursive: true);

    [Fact]
    public async Task ProducerThenConsumer_ConsumerHits_AndSkipsPrefill()
    {
        var extra = $$"""{"shared_storage_path":"{{_storage.FullName}}"}""";
        await using var prefill = await RunningSimulator.StartAsync(PdTestFlow.Fast("--block-size", "4", "--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.SharedStorage, KvRoles.Producer, extra)));

        // Decode prefill is slow (20 ms per token), so a hit that skips it shows in the latency; small
        // blocks leave only a short unaligned tail to recompute.
        await using var decode = await RunningSimulator.StartAsync(
            ["--time-to-first-token", "1", "--inter-token-latency", "1", "--prefill-time-per-token", "20", "--kv-cache-transfer-latency", "1", "--kv-cache-transfer-time-per-token", "0",
             "--block-size", "4", "--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.SharedStorage, KvRoles.Consumer, extra)]);
        var client = SimulatorHttp.Completion(PdTestFlow.LongPrompt("rivers"), maxTokens: 3);
        var (warmUp, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("Warm up"));

        var (prefillResponse, _) = await PdTestFlow.PrefillAsync(prefill, client);
        var hitWatch = Stopwatch.StartNew();
        var (hit, hitBody) = await PdTestFlow.DecodeAsync(decode, client);
        hitWatch.Stop();
        var missWatch = Stopwatch.StartNew();
        var (miss, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion(PdTestFlow.LongPrompt("mountains"), maxTokens: 3));
        missWatch.Stop();

        Assert.Equal(KvTransferOutcomes.Miss, warmUp.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.Single(_storage.GetDirectories());
        Assert.Equal(KvTransferOutcomes.Hit, hit.KvOutcome());
        Assert.Equal(3, (int)hitBody["usage"]!["completion_tokens"]!);
        Assert.Equal(KvTransferOutcomes.Miss, miss.KvOutcome());
        Assert.True(missWatch.Elapsed - hitWatch.Elapsed > TimeSpan.FromMilliseconds(300), $"hit {hitWatch.Elapsed}, miss {missWatch.Elapsed}");

        var metrics = await decode.Client.MetricsAsync();
        Assert.Equal(1, SimulatorHttp.Metric(metrics, "pdsim:kv_transfer_hits_total{model_name=\"dp7b\",connector=\"SharedStorageConnector\"}"));
        Assert.Equal(2, SimulatorHttp.Metric(metrics, "pdsim:kv_transfer_misses_total{model_name=\"dp7b\",connector=\"SharedStorageConnector\"}"));
        Assert.Equal(1, SimulatorHttp.Metric(await prefill.Client.MetricsAsync(), "pdsim:kv_transfers_produced_total{model_name=\"dp7b\",connector=\"SharedStorageConnector\"}"));
    }

    [Fact]
    public async Task ConsumerWithoutProducer_Misses()
    {
        var extra = $$"""{"shared_storage_path":"{{_storage.FullName}}"}""";
        await using var decode = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.SharedStorage, KvRoles.Consumer, extra)));

        var (response, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion(PdTestFlow.LongPrompt("forests")));

        Assert.Equal(KvTransferOutcomes.Miss, response.KvOutcome());
        Assert.Empty(_storage.GetDirectories());
    }

    [Fact]
    public async Task KvBoth_SecondRequestForTheSamePromptHits()
    {
        var extra = $$"""{"shared_storage_path":"{{_storage.FullName}}"}""";
        await using var both = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.SharedStorage, KvRoles.Both, extra)));
        var client = SimulatorHttp.Completion(PdTestFlow.LongPrompt("oceans"));

        var (first, _) = await PdTestFlow.DecodeAsync(both, client);
        var (second, _) = await PdTestFlow.DecodeAsync(both, client);

        Assert.Equal(KvTransferOutcomes.Miss, first.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Hit, second.KvOutcome());
    }

    [Fact]
    public async Task ShortPrompt_IsNotStored_AndSaysSoAtInformation()
    {
        var extra = $$"""{"shared_storage_path":"{{_storage.FullName}}"}""";
        var logs = new CapturingLoggerProvider();
        await using var prefill = await RunningSimulator.StartAsync(
            PdTestFlow.Fast("--kv-transfer-config", PdTestFlow.KvConfig(KvConnectorNames.SharedStorage, KvRoles.Producer, extra)),
            configure: builder => builder.Logging.AddProvider(logs));

        var (response, _) = await PdTestFlow.PrefillAsync(prefill, SimulatorHttp.Completion("Hi"));

        Assert.NotEqual(KvTransferOutcomes.Produced, response.KvOutcome());
        Assert.Empty(_storage.GetDirectories());
        var records = logs.Logger.Lines;
        Assert.Contains(records, r => r.Level == LogLevel.Information && r.Message.Contains("No KV to transfer", StringComparison.Ordinal));
        Assert.DoesNotContain(records, r => r.Level >= LogLevel.Warning && r.Message.Contains("KV", StringComparison.Ordinal));
    }
}
