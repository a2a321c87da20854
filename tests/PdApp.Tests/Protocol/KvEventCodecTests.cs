using PdApp.Protocol.KvEvents;

namespace PdApp.Tests.Protocol;

/// <summary>
/// KV events in vLLM's wire format. The expected bytes are written out by hand from
/// vllm/distributed/kv_events.py (msgspec: <c>KVEventBatch</c> array_like, events tagged, float64
/// timestamp, smallest int encodings, fixstr tags), not produced by our encoder.
/// </summary>
public sealed class KvEventCodecTests
{
    // [1.5, [["BlockStored", [1, 2], nil, [10, 11, 12, 13], 2, nil, "GPU", nil]], 0]
    private const string StoredBatchHex =
        "93" + "cb3ff8000000000000" + "91"
        + "98" + "ab426c6f636b53746f726564" + "920102" + "c0" + "940a0b0c0d" + "02" + "c0" + "a3475055" + "c0"
        + "00";

    // [2.0, [["BlockRemoved", [18446744073709551615], "GPU"], ["AllBlocksCleared"]], 1]
    private const string RemovedBatchHex =
        "93" + "cb4000000000000000" + "92"
        + "93" + "ac426c6f636b52656d6f766564" + "91cfffffffffffffffff" + "a3475055"
        + "91" + "b0416c6c426c6f636b73436c6561726564"
        + "01";

    [Fact]
    public void Decode_VllmArrayLayout_BlockStored()
    {
        Assert.True(KvEventCodec.TryDecode(Convert.FromHexString(StoredBatchHex), out var batch, out var error), error);

        Assert.Equal(1.5, batch!.Timestamp);
        Assert.Equal(0, batch.DataParallelRank);
        var stored = Assert.IsType<BlockStored>(Assert.Single(batch.Events));
        Assert.Equal([1UL, 2UL], stored.BlockHashes);
        Assert.Null(stored.ParentBlockHash);
        Assert.Equal([10, 11, 12, 13], stored.TokenIds);
        Assert.Equal(2, stored.BlockSize);
        Assert.Null(stored.LoraId);
        Assert.Equal("GPU", stored.Medium);
        Assert.Null(stored.LoraName);
    }

    [Fact]
    public void Decode_VllmArrayLayout_RemovedAndCleared()
    {
        Assert.True(KvEventCodec.TryDecode(Convert.FromHexString(RemovedBatchHex), out var batch, out var error), error);

        Assert.Equal(1, batch!.DataParallelRank);
        Assert.Collection(
            batch.Events,
            e => Assert.Equal([ulong.MaxValue], Assert.IsType<BlockRemoved>(e).BlockHashes),
            e => Assert.IsType<AllBlocksCleared>(e));
    }

    [Fact]
    public void Encode_WritesTheBytesVllmWrites()
    {
        var batch = new KvEventBatch(1.5, [new BlockStored([1, 2], null, [10, 11, 12, 13], 2, null, "GPU", null)], 0);
        Assert.Equal(StoredBatchHex, Convert.ToHexStringLower(KvEventCodec.Encode(batch)));

        var removed = new KvEventBatch(2.0, [new BlockRemoved([ulong.MaxValue], "GPU"), new AllBlocksCleared()], 1);
        Assert.Equal(RemovedBatchHex, Convert.ToHexStringLower(KvEventCodec.Encode(removed)));
    }

    [Fact]
    public void Decode_MapLayoutOfLaterVllm_BytesHashesAndUnknownFields()
    {
        // [0.0, [{"type": "BlockStored", "block_hashes": [bin 0x..0102 (10 bytes)], "parent_block_hash": -1,
        //         "token_ids": [7], "block_size": 1, "lora_id": nil, "medium": "GPU", "lora_name": nil, "group_idx": 0}]]
        var hex =
            "92" + "cb0000000000000000" + "91"
            + "89"
            + "a474797065" + "ab426c6f636b53746f726564"
            + "ac626c6f636b5f686173686573" + "91" + "c40a" + "ff000000000000000102"
            + "b1706172656e745f626c6f636b5f68617368" + "ff"
            + "a9746f6b656e5f696473" + "9107"
            + "aa626c6f636b5f73697a65" + "01"
            + "a76c6f72615f6964" + "c0"
            + "a66d656469756d" + "a3475055"
            + "a96c6f72615f6e616d65" + "c0"
            + "a967726f75705f696478" + "00";

        Assert.True(KvEventCodec.TryDecode(Convert.FromHexString(hex), out var batch, out var error), error);

        Assert.Null(batch!.DataParallelRank);
        var stored = Assert.IsType<BlockStored>(Assert.Single(batch.Events));
        Assert.Equal([0x0102UL], stored.BlockHashes);
        Assert.Equal(ulong.MaxValue, stored.ParentBlockHash);
        Assert.Equal([7], stored.TokenIds);
    }

    [Fact]
    public void Decode_NotABatch_IsRefusedWithAReason()
    {
        Assert.False(KvEventCodec.TryDecode(Convert.FromHexString("80"), out _, out var error));
        Assert.Contains("array", error, StringComparison.Ordinal);
        Assert.False(KvEventCodec.TryDecode(Convert.FromHexString("93cb"), out _, out _));
    }

    [Fact]
    public void Sequence_IsEightBytesBigEndian()
    {
        Assert.Equal("0000000000000102", Convert.ToHexStringLower(KvEventsWire.SequenceFrame(258)));
        Assert.Equal("ffffffffffffffff", Convert.ToHexStringLower(KvEventsWire.SequenceFrame(KvEventsWire.EndOfReplay)));
        Assert.True(KvEventsWire.TryReadSequence(Convert.FromHexString("0000000000000102"), out var seq));
        Assert.Equal(258, seq);
    }

    [Fact]
    public void BlockKeys_ChainOverFullBlocksOnly()
    {
        int[] tokens = [1, 2, 3, 4, 5, 6, 7];
        var keys = KvBlockHasher.HashBlocks(tokens, 3);

        Assert.Equal(2, keys.Length);
        Assert.Equal(KvBlockHasher.Hash(null, [1, 2, 3]), keys[0]);
        Assert.Equal(KvBlockHasher.Hash(keys[0], [4, 5, 6]), keys[1]);
        // Same tokens after another parent: another key (a block's key depends on its whole prefix).
        Assert.NotEqual(keys[1], KvBlockHasher.Hash(null, [4, 5, 6]));
    }
}
