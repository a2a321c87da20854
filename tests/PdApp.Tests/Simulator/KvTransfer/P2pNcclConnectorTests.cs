using MessagePack;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol;
using PdApp.Simulator.KvTransfer.Connectors;

namespace PdApp.Tests.Simulator.KvTransfer;

public sealed class P2pNcclConnectorTests
{
    private static Task<RunningSimulator> StartAsync(string role, string sendType, string extra = "") =>
        RunningSimulator.StartAsync(PdTestFlow.Fast(
            "--kv-transfer-config",
            PdTestFlow.KvConfig(KvConnectorNames.P2pNccl, role, $$"""{"send_type":"{{sendType}}"{{extra}}}""", more: ",\"kv_port\":0")));

    private static string RequestId(RunningSimulator prefill, RunningSimulator decode) =>
        $"___prefill_addr_127.0.0.1:{((P2pNcclKvConnector)prefill.Connector).KvPort}___decode_addr_127.0.0.1:{((P2pNcclKvConnector)decode.Connector).KvPort}_{Guid.NewGuid():N}";

    [Theory]
    [InlineData("PUT_ASYNC")]
    [InlineData("PUT")]
    [InlineData("GET")]
    public async Task PrefillThenDecodeWithTheSameRequestId_DecodeHits(string sendType)
    {
        await using var prefill = await StartAsync(KvRoles.Producer, sendType);
        await using var decode = await StartAsync(KvRoles.Consumer, sendType);
        var requestId = RequestId(prefill, decode);
        var client = SimulatorHttp.Completion("Move the cache", maxTokens: 3);

        var (prefillResponse, _) = await PdTestFlow.PrefillAsync(prefill, client, requestId);
        var (decodeResponse, decodeBody) = await PdTestFlow.DecodeAsync(decode, client, requestId);

        Assert.Equal(KvTransferOutcomes.Produced, prefillResponse.KvOutcome());
        Assert.Equal(KvTransferOutcomes.Hit, decodeResponse.KvOutcome());
        Assert.Equal("cmpl-" + requestId, (string?)decodeBody["id"]);
    }

    [Fact]
    public async Task DecodeWithoutPrefill_Misses()
    {
        await using var prefill = await StartAsync(KvRoles.Producer, "PUT_ASYNC");
        await using var decode = await StartAsync(KvRoles.Consumer, "PUT_ASYNC");

        var (response, _) = await PdTestFlow.DecodeAsync(decode, SimulatorHttp.Completion("Never prefilled"), RequestId(prefill, decode));

        Assert.Equal(KvTransferOutcomes.Miss, response.KvOutcome());
    }

    [Fact]
    public async Task DecodeUnderAnotherRequestId_Misses()
    {
        await using var prefill = await StartAsync(KvRoles.Producer, "PUT_ASYNC");
        await using var decode = await StartAsync(KvRoles.Consumer, "PUT_ASYNC");
        var client = SimulatorHttp.Completion("Same prompt, other id");

        await PdTestFlow.PrefillAsync(prefill, client, RequestId(prefill, decode));
        var (response, _) = await PdTestFlow.DecodeAsync(decode, client, RequestId(prefill, decode));

        Assert.Equal(KvTransferOutcomes.Miss, response.KvOutcome());
    }

    [Fact]
    public async Task ProxyRegistration_SendsMsgpackMapFromDealerNamedByZmqAddress()
    {
        using var router = new RouterSocket();
        var port = router.BindRandomPort("tcp://127.0.0.1");
        await using var decode = await StartAsync(KvRoles.Consumer, "PUT_ASYNC", $",\"proxy_ip\":\"127.0.0.1\",\"proxy_port\":\"{port}\",\"http_port\":\"8123\"");
        var zmqAddress = ((P2pNcclKvConnector)decode.Connector).ZmqAddress;

        var message = new NetMQMessage();
        Assert.True(router.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref message));
        var fields = MessagePackSerializer.Deserialize<Dictionary<string, string>>(message[1].ToByteArray());

        Assert.Equal(2, message.FrameCount);
        Assert.Equal(zmqAddress, message[0].ConvertToString());
        Assert.Equal("D", fields["type"]);
        Assert.Equal("127.0.0.1:8123", fields["http_address"]);
        Assert.Equal(zmqAddress, fields["zmq_address"]);
    }
}
