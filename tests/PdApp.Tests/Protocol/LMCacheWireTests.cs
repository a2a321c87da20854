using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Protocol.LMCache;

namespace PdApp.Tests.Protocol;

/// <summary>LMCache 0.3.x's PD wire shapes, checked against bytes written out by hand from LMCache's code.</summary>
public sealed class LMCacheWireTests
{
    // msgspec.msgpack.encode(ProxyNotif(req_id="abc")) for `class ProxyNotif(PDMsgBase)` with
    // `class PDMsgBase(msgspec.Struct, tag=True)` (lmcache/v1/storage_backend/pd_backend.py): a struct is a map,
    // the tag comes first under "type" with the class name, then the fields in order.
    // 0x82 = fixmap(2); 0xa4 "type"; 0xaa "ProxyNotif"; 0xa6 "req_id"; 0xa3 "abc".
    private static readonly byte[] ProxyNotifAbc = Convert.FromHexString(
        "82" + "a4" + "74797065" + "aa" + "50726f78794e6f746966" + "a6" + "7265715f6964" + "a3" + "616263");

    [Fact]
    public void ProxyNotif_IsWrittenExactlyAsMsgspecWritesIt()
    {
        Assert.Equal(Convert.ToHexString(ProxyNotifAbc), Convert.ToHexString(new LMCacheProxyNotification("abc").ToMsgPack()));
    }

    [Fact]
    public void ProxyNotif_FromMsgspecBytes_IsRead()
    {
        Assert.True(LMCacheProxyNotification.TryParse(ProxyNotifAbc, out var notification, out var error), error);
        Assert.Equal("abc", notification!.RequestId);
    }

    [Theory]
    [InlineData("81a474797065aa50726f78794e6f74696600", "trailing bytes")] // a map of the tag only, plus a stray byte
    [InlineData("82a474797065ac416c6c6f635265", "not valid msgpack")] // a string cut short
    [InlineData("92a474797065a3616263", "map")] // an array, not a map
    [InlineData("82a474797065ad416c6c6f63526573706f6e7365a67265715f6964a3616263", "\"ProxyNotif\"")] // AllocResponse tag
    [InlineData("81a474797065aa50726f78794e6f746966", "req_id")] // no req_id
    public void ProxyNotif_OtherFrames_AreRefusedWithAReason(string hex, string reason)
    {
        Assert.False(LMCacheProxyNotification.TryParse(Convert.FromHexString(hex), out var notification, out var error));
        Assert.Null(notification);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void DisaggSpec_IsTheObjectLMCachesAdapterReads()
    {
        var spec = new LMCacheDisaggSpec("7f3a", "decode-0", [7300, 7301], [7400, 7401]);
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            spec.WriteTo(writer);
        }

        // vllm_v1_adapter.py: DisaggSpec(req_id=..., receiver_host=..., receiver_init_port=..., receiver_alloc_port=...),
        // ports indexed by tensor-parallel rank (pd_backend.py: transfer_spec.receiver_init_port[self.tp_rank]).
        Assert.Equal(
            """{"req_id":"7f3a","receiver_host":"decode-0","receiver_init_port":[7300,7301],"receiver_alloc_port":[7400,7401]}""",
            Encoding.UTF8.GetString(buffer.ToArray()));
        Assert.True(LMCacheDisaggSpec.TryRead(new JsonObject { ["disagg_spec"] = JsonNode.Parse(Encoding.UTF8.GetString(buffer.ToArray())) }, out var read, out _));
        Assert.Equal((spec.RequestId, spec.ReceiverHost, 2), (read!.RequestId, read.ReceiverHost, read.Ranks));
        Assert.Equal(spec.ReceiverAllocPorts, read.ReceiverAllocPorts);
    }

    [Theory]
    [InlineData("""{"disagg_spec": {"req_id": "r", "receiver_host": "h", "receiver_init_port": [1], "receiver_alloc_port": [1, 2]}}""")]
    [InlineData("""{"disagg_spec": {"req_id": "r", "receiver_host": "h", "receiver_init_port": 7300, "receiver_alloc_port": [1]}}""")]
    [InlineData("""{"disagg_spec": {"receiver_host": "h", "receiver_init_port": [1], "receiver_alloc_port": [1]}}""")]
    [InlineData("""{"disagg_spec": "r"}""")]
    public void DisaggSpec_Malformed_IsNotUsedAndSaysWhy(string parameters)
    {
        Assert.False(LMCacheDisaggSpec.TryRead(JsonNode.Parse(parameters)!.AsObject(), out var spec, out var error));
        Assert.Null(spec);
        Assert.Contains("disagg_spec", error, StringComparison.Ordinal);
    }

    [Fact]
    public void DisaggSpec_Absent_IsNoErrorAtAll()
    {
        Assert.False(LMCacheDisaggSpec.TryRead(new JsonObject { ["do_remote_decode"] = true }, out _, out var error));
        Assert.Null(error);
    }
}
