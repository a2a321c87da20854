using System.Net;
using Microsoft.Extensions.Time.Testing;
using PdApp.Protocol;
using PdApp.Simulator.KvTransfer.Connectors;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Simulator.KvTransfer;

public sealed class PyNcclConnectorTests
{
    private static string Config(string role, int rank, int port) =>
        PdTestFlow.KvConfig(KvConnectorNames.PyNccl, role, more: $",\"kv_rank\":{rank},\"kv_parallel_size\":2,\"kv_ip\":\"127.0.0.1\",\"kv_port\":{port}");

    [Fact]
    public async Task ProducerIsUnhealthyUntilConsumerJoins_ThenDecodeHits()
    {
        var port = RunningSimulator.FreePort();
        await using var prefill = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", Config(KvRoles.Producer, 0, port)));
        using var alone = await prefill.Client.GetAsync("/health");

        await using var decode = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", Config(KvRoles.Consumer, 1, port)));
        await WaitHealthyAsync(prefill);
        await WaitHealthyAsync(decode);
        var client = SimulatorHttp.Completion("One producer, one consumer", maxTokens: 3);
        var (prefillResponse, _) = await PdTestFlow.PrefillAsync(prefill, client);
        var (hit, _) = await PdTestFlow.DecodeAsync(decode, client);
        var (miss, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("A prompt never prefilled"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, alone.StatusCode);
        Assert.Equal(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Hit, hit.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Miss, miss.KvOutcome());
    }

    [Fact]
    public async Task ConsumerWithoutProducer_StaysUnhealthy()
    {
        var port = RunningSimulator.FreePort();
        var time = new FakeTimeProvider();
        await using var decode = await RunningSimulator.StartAsync(PdTestFlow.Fast("--kv-transfer-config", Config(KvRoles.Consumer, 1, port)), time: time);
        var connector = Assert.IsType<PyNcclKvConnector>(decode.Connector);

        // Three join attempts, each retried on the (fake) 250 ms tick, all refused.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            Assert.True(await Eventually.TrueAsync(() => connector.JoinAttempts >= attempt), $"join attempt {attempt} never made");
            time.Advance(TimeSpan.FromMilliseconds(250));
        }

        using var health = await decode.Client.GetAsync("/health");

        Assert.False(connector.IsReady);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
    }

    private static async Task WaitHealthyAsync(RunningSimulator sim)
    {
        var healthy = await Eventually.TrueAsync(
            async () =>
            {
                using var health = await sim.Client.GetAsync("/health");
                return health.StatusCode == HttpStatusCode.OK;
            },
            TimeSpan.FromSeconds(5));

        Assert.True(healthy, $"{sim.BaseAddress} never became healthy");
    }
}
