using System.Text.Json;
using PdApp.Hosting.KvConnectors;
using PdApp.Protocol;

namespace PdApp.Tests.Hosting;

/// <summary>Each connector's <c>--kv-transfer-config</c> JSON, parsed back and compared field by field with what vLLM reads.</summary>
public sealed class KvConnectorTests
{
    [Fact]
    public void SharedStorage_WritesTheGuidesJson()
    {
        var json = new SharedStorageKvConnector(PdRole.Prefill, "/data/models/pd_local_storage").ToJson();

        Assert.Equal(
            """{"kv_connector":"SharedStorageConnector","kv_role":"kv_producer","kv_connector_extra_config":{"shared_storage_path":"/data/models/pd_local_storage"}}""",
            json);
        var parsed = KvTransferConfig.Parse(json);
        Assert.Equal("/data/models/pd_local_storage", parsed.KvConnectorExtraConfig!["shared_storage_path"]!.GetValue<string>());
    }

    [Fact]
    public void PyNccl_WritesTheGuidesProducerAndConsumerJson()
    {
        var prefill = new PyNcclKvConnector(PdRole.Prefill, kvRank: 0, kvParallelSize: 2, kvIp: "10.0.0.5");
        var decode = new PyNcclKvConnector(PdRole.Decode, kvRank: 1, kvParallelSize: 2, kvIp: "10.0.0.5");

        Assert.Equal(
            """{"kv_connector":"PyNcclConnector","kv_role":"kv_producer","kv_rank":0,"kv_parallel_size":2,"kv_ip":"10.0.0.5","kv_port":14579}""",
            prefill.ToJson());
        var parsed = KvTransferConfig.Parse(decode.ToJson());
        Assert.Equal(KvConnectorNames.PyNccl, parsed.KvConnector);
        Assert.Equal(KvRoles.Consumer, parsed.KvRole);
        Assert.Equal(1, parsed.KvRank);
        Assert.Equal(2, parsed.KvParallelSize);
        Assert.Equal("10.0.0.5", parsed.KvIp);
        Assert.Equal(14579, parsed.KvPort);
        Assert.Null(parsed.KvConnectorExtraConfig);
        Assert.Equal("10.0.0.5:14579", decode.KvAddress);
    }

    [Fact]
    public void PyNccl_RankOutsideTheGroup_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PyNcclKvConnector(PdRole.Decode, kvRank: 2, kvParallelSize: 2, kvIp: "h"));
    }

    [Fact]
    public void P2pNccl_WritesPortsAsStringsAndTheSendTypeAsVllmSpellsIt()
    {
        var connector = new P2pNcclKvConnector(PdRole.Decode, "10.0.0.6", kvPort: 22001, httpPort: 8200, proxyIp: "10.0.0.1", proxyPort: 30001)
        {
            KvBufferSize = 8e9,
            SendType = P2pNcclSendType.Get,
            NcclNumChannels = 16,
            MemPoolSizeGb = 64,
        };

        using var doc = JsonDocument.Parse(connector.ToJson());
        var root = doc.RootElement;
        Assert.Equal("P2pNcclConnector", root.GetProperty("kv_connector").GetString());
        Assert.Equal("kv_consumer", root.GetProperty("kv_role").GetString());
        Assert.Equal(22001, root.GetProperty("kv_port").GetInt32());
        Assert.Equal(8e9, root.GetProperty("kv_buffer_size").GetDouble());
        var extra = root.GetProperty("kv_connector_extra_config");
        Assert.Equal("10.0.0.1", extra.GetProperty("proxy_ip").GetString());
        Assert.Equal("30001", extra.GetProperty("proxy_port").GetString());
        Assert.Equal("8200", extra.GetProperty("http_port").GetString());
        Assert.Equal("GET", extra.GetProperty("send_type").GetString());
        Assert.Equal("16", extra.GetProperty("nccl_num_channels").GetString());
        Assert.Equal(64, extra.GetProperty("mem_pool_size_gb").GetInt32());
        Assert.Equal("10.0.0.6:22001", connector.KvAddress);
        Assert.Equal("10.0.0.6", connector.EnvironmentVariables["VLLM_HOST_IP"]);
    }

    [Theory]
    [InlineData(P2pNcclSendType.Put, "PUT")]
    [InlineData(P2pNcclSendType.PutAsync, "PUT_ASYNC")]
    public void P2pNccl_SendTypes_MatchVllmsNames(P2pNcclSendType sendType, string expected)
    {
        var connector = new P2pNcclKvConnector(PdRole.Prefill, "h", 21001, 8100, "p", 30001) { SendType = sendType };

        var parsed = KvTransferConfig.Parse(connector.ToJson());

        Assert.Equal(expected, parsed.KvConnectorExtraConfig!["send_type"]!.GetValue<string>());
    }

    [Fact]
    public void Nixl_RunsBothSidesAsKvBothWithADistinctSideChannel()
    {
        var connector = new NixlKvConnector(PdRole.Prefill, "prefill-0", 5600) { UcxTransports = "cuda_ipc,cuda_copy,tcp", UcxNetDevices = "mlx5_0:1" };

        var parsed = KvTransferConfig.Parse(connector.ToJson());

        Assert.Equal("""{"kv_connector":"NixlConnector","kv_role":"kv_both"}""", connector.ToJson());
        Assert.Equal(KvRoles.Both, parsed.KvRole);
        Assert.Equal("prefill-0", connector.EnvironmentVariables["VLLM_NIXL_SIDE_CHANNEL_HOST"]);
        Assert.Equal("5600", connector.EnvironmentVariables["VLLM_NIXL_SIDE_CHANNEL_PORT"]);
        Assert.Equal("cuda_ipc,cuda_copy,tcp", connector.EnvironmentVariables["UCX_TLS"]);
        Assert.Equal("mlx5_0:1", connector.EnvironmentVariables["UCX_NET_DEVICES"]);
    }

    [Fact]
    public void LMCache_RendersTheLMCache03PdKeys_SenderNotifiesTheProxy_ReceiverListensPerRank()
    {
        var prefill = new LMCacheKvConnector(PdRole.Prefill, "producer1") { ProxyHost = "host.docker.internal", ProxyPort = 7500 };
        var decode = new LMCacheKvConnector(PdRole.Decode, "consumer1") { ReceiverHost = "decode-0", InitPort = 7300, AllocPort = 7400, Ranks = 2 };

        var parsed = KvTransferConfig.Parse(prefill.ToJson());

        Assert.Equal(KvConnectorNames.LMCacheV1, parsed.KvConnector);
        Assert.Equal(KvRoles.Producer, parsed.KvRole);
        Assert.False(parsed.KvConnectorExtraConfig!["discard_partial_chunks"]!.GetValue<bool>());
        Assert.Equal("producer1", parsed.KvConnectorExtraConfig!["lmcache_rpc_port"]!.GetValue<string>());

        // Keys of LMCache 0.3.x's _CONFIG_DEFINITIONS (lmcache/v1/config.py), read as LMCACHE_<KEY>.
        Assert.Equal("sender", prefill.EnvironmentVariables["LMCACHE_PD_ROLE"]);
        Assert.Equal("host.docker.internal", prefill.EnvironmentVariables["LMCACHE_PD_PROXY_HOST"]);
        Assert.Equal("7500", prefill.EnvironmentVariables["LMCACHE_PD_PROXY_PORT"]);
        Assert.Equal("receiver", decode.EnvironmentVariables["LMCACHE_PD_ROLE"]);
        Assert.Equal("0.0.0.0", decode.EnvironmentVariables["LMCACHE_PD_PEER_HOST"]);
        Assert.Equal("7300,7301", decode.EnvironmentVariables["LMCACHE_PD_PEER_INIT_PORT"]);
        Assert.Equal("7400,7401", decode.EnvironmentVariables["LMCACHE_PD_PEER_ALLOC_PORT"]);
        foreach (var env in new[] { prefill.EnvironmentVariables, decode.EnvironmentVariables })
        {
            Assert.Equal("True", env["LMCACHE_ENABLE_PD"]);
            Assert.Equal("nixl", env["LMCACHE_TRANSFER_CHANNEL"]);
            Assert.Equal("False", env["LMCACHE_LOCAL_CPU"]);
            Assert.Equal("1073741824", env["LMCACHE_PD_BUFFER_SIZE"]);
            Assert.Equal("cuda", env["LMCACHE_PD_BUFFER_DEVICE"]);
            Assert.Equal("UCX", env["LMCACHE_NIXL_BACKENDS"]);
            Assert.Equal("256", env["LMCACHE_CHUNK_SIZE"]);
            Assert.DoesNotContain(env.Keys, k => k.StartsWith("LMCACHE_NIXL_RECEIVER", StringComparison.Ordinal) || k is "LMCACHE_ENABLE_NIXL" or "LMCACHE_NIXL_ROLE");
        }

        Assert.DoesNotContain("LMCACHE_PD_PEER_HOST", prefill.EnvironmentVariables.Keys);
        Assert.DoesNotContain("LMCACHE_PD_PROXY_HOST", decode.EnvironmentVariables.Keys);
        Assert.Equal(prefill.EnvironmentVariables["PYTHONHASHSEED"], decode.EnvironmentVariables["PYTHONHASHSEED"]);

        // What the proxy needs to name this receiver in disagg_spec.
        Assert.Equal("decode-0:7300", decode.KvAddress);
        Assert.Equal(new Dictionary<string, string> { ["KvAllocPort"] = "7400", ["KvRanks"] = "2" }, decode.ProxyInstanceSettings);
        Assert.Null(prefill.KvAddress);
        Assert.Empty(prefill.ProxyInstanceSettings);
    }

    [Fact]
    public void LMCache_BothRole_Throws()
    {
        Assert.Throws<ArgumentException>(() => new LMCacheKvConnector(PdRole.Both, "x"));
    }

    [Fact]
    public void Multi_ListsItsChildrenAsFullConfigsAndMergesTheirEnvironment()
    {
        var connector = new MultiKvConnector(PdRole.Decode,
        [
            new NixlKvConnector(PdRole.Decode, "decode-0", 5601),
            new SharedStorageKvConnector(PdRole.Decode, "/data/kv"),
        ]);

        var parsed = KvTransferConfig.Parse(connector.ToJson());
        var children = parsed.KvConnectorExtraConfig!["connectors"]!.AsArray()
            .Select(c => KvTransferConfig.Parse(c!.ToJsonString()))
            .ToList();

        Assert.Equal(KvConnectorNames.Multi, parsed.KvConnector);
        Assert.Equal(KvRoles.Both, parsed.KvRole);
        Assert.Equal([KvConnectorNames.Nixl, KvConnectorNames.SharedStorage], children.Select(c => c.KvConnector));
        Assert.Equal(KvRoles.Consumer, children[1].KvRole);
        Assert.Equal("/data/kv", children[1].KvConnectorExtraConfig!["shared_storage_path"]!.GetValue<string>());
        Assert.Equal("5601", connector.EnvironmentVariables["VLLM_NIXL_SIDE_CHANNEL_PORT"]);
    }

    [Fact]
    public void Multi_RejectsNestedAndV0Children()
    {
        var nested = new MultiKvConnector(PdRole.Prefill, [new SharedStorageKvConnector(PdRole.Prefill, "/data/kv")]);

        Assert.Throws<ArgumentException>(() => new MultiKvConnector(PdRole.Prefill, [nested]));
        Assert.Throws<ArgumentException>(() => new MultiKvConnector(PdRole.Prefill, [new PyNcclKvConnector(PdRole.Prefill, 0, 2, "h")]));
        Assert.Throws<ArgumentException>(() => new MultiKvConnector(PdRole.Prefill, []));
    }

    [Fact]
    public void ExtraConfig_IsMergedIntoKvConnectorExtraConfig()
    {
        var connector = new SharedStorageKvConnector(PdRole.Prefill, "/data/kv")
        {
            ExtraConfig = new Dictionary<string, string> { ["custom"] = "value" },
        };

        var parsed = KvTransferConfig.Parse(connector.ToJson());

        Assert.Equal("value", parsed.KvConnectorExtraConfig!["custom"]!.GetValue<string>());
        Assert.Equal("/data/kv", parsed.KvConnectorExtraConfig!["shared_storage_path"]!.GetValue<string>());
    }
}
