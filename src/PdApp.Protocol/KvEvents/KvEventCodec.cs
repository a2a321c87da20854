using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace PdApp.Protocol.KvEvents;

/// <summary>
/// The msgpack payload of a KV event message (vllm/distributed/kv_events.py, encoded by
/// <c>msgspec.msgpack.Encoder</c>). <c>KVEventBatch</c> is <c>array_like</c>:
/// <c>[ts, events, data_parallel_rank]</c>. Each event is a tagged union whose tag is the class
/// name; vLLM up to 0.11 (and llm-d's kv-cache indexer, which decodes arrays) lays it out as an
/// array <c>[tag, field...]</c>, later vLLM as a map <c>{"type": tag, field: value}</c>.
/// <see cref="Encode"/> writes the array layout; <see cref="TryDecode"/> reads both.
/// </summary>
/// <remarks>
/// Block hashes are written as unsigned integers (vLLM's int block hashes); read as integers (signed
/// ones reinterpreted as 64-bit) or as bytes, of which the last 8 are read big-endian, as llm-d does.
/// <c>omit_defaults</c> drops trailing fields equal to their default (<c>extra_keys</c>,
/// <c>group_idx</c> ... when null); fields without a default (<c>lora_id</c>, <c>medium</c>,
/// <c>lora_name</c>) are always written, null as msgpack nil.
/// </remarks>
public static class KvEventCodec
{
    private const string MapTagKey = "type";

    /// <summary>Encodes a batch as vLLM 0.11 does.</summary>
    /// <param name="batch">The batch.</param>
    /// <returns>The payload frame.</returns>
    public static byte[] Encode(KvEventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var buffer = new ArrayBufferWriter<byte>(256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(batch.DataParallelRank is null ? 2 : 3);
        writer.Write(batch.Timestamp);
        writer.WriteArrayHeader(batch.Events.Count);
        foreach (var kvEvent in batch.Events)
        {
            WriteEvent(ref writer, kvEvent);
        }

        if (batch.DataParallelRank is { } rank)
        {
            writer.Write(rank);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a payload frame; unknown event tags are skipped, malformed frames refused.</summary>
    /// <param name="payload">The frame.</param>
    /// <param name="batch">The batch, when valid.</param>
    /// <param name="error">Why the frame is not a batch, else empty.</param>
    /// <returns>True when decoded.</returns>
    public static bool TryDecode(ReadOnlyMemory<byte> payload, out KvEventBatch? batch, out string error)
    {
        batch = null;
        try
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            if (reader.NextMessagePackType != MessagePackType.Array)
            {
                error = $"expected a msgpack array (KVEventBatch), got {reader.NextMessagePackType}";
                return false;
            }

            var fields = reader.ReadArrayHeader();
            if (fields < 2)
            {
                error = $"KVEventBatch has {fields} fields, expected at least 2";
                return false;
            }

            var ts = reader.ReadDouble();
            var count = reader.ReadArrayHeader();
            var events = new List<KvCacheEvent>(count);
            for (var i = 0; i < count; i++)
            {
                if (ReadEvent(ref reader) is { } kvEvent)
                {
                    events.Add(kvEvent);
                }
            }

            int? rank = null;
            if (fields >= 3)
            {
                rank = reader.TryReadNil() ? null : reader.ReadInt32();
            }

            for (var i = 3; i < fields; i++)
            {
                reader.Skip();
            }

            batch = new KvEventBatch(ts, events, rank);
            error = string.Empty;
            return true;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or OverflowException)
        {
            error = ex.Message;
            return false;
        }
    }

    private static void WriteEvent(ref MessagePackWriter writer, KvCacheEvent kvEvent)
    {
        switch (kvEvent)
        {
            case BlockStored stored:
                writer.WriteArrayHeader(8);
                writer.Write(BlockStored.Tag);
                WriteHashes(ref writer, stored.BlockHashes);
                WriteNullable(ref writer, stored.ParentBlockHash);
                writer.WriteArrayHeader(stored.TokenIds.Count);
                foreach (var token in stored.TokenIds)
                {
                    writer.Write(token);
                }

                writer.Write(stored.BlockSize);
                if (stored.LoraId is { } lora)
                {
                    writer.Write(lora);
                }
                else
                {
                    writer.WriteNil();
                }

                writer.Write(stored.Medium);
                writer.Write(stored.LoraName);
                break;
            case BlockRemoved removed:
                writer.WriteArrayHeader(3);
                writer.Write(BlockRemoved.Tag);
                WriteHashes(ref writer, removed.BlockHashes);
                writer.Write(removed.Medium);
                break;
            case AllBlocksCleared:
                writer.WriteArrayHeader(1);
                writer.Write(AllBlocksCleared.Tag);
                break;
            default:
                throw new ArgumentException($"Unknown KV event {kvEvent.GetType().Name}.", nameof(kvEvent));
        }
    }

    private static void WriteHashes(ref MessagePackWriter writer, IReadOnlyList<ulong> hashes)
    {
        writer.WriteArrayHeader(hashes.Count);
        foreach (var hash in hashes)
        {
            writer.Write(hash);
        }
    }

    private static void WriteNullable(ref MessagePackWriter writer, ulong? value)
    {
        if (value is { } v)
        {
            writer.Write(v);
        }
        else
        {
            writer.WriteNil();
        }
    }

    private static KvCacheEvent? ReadEvent(ref MessagePackReader reader)
    {
        return reader.NextMessagePackType switch
        {
            MessagePackType.Array => ReadArrayEvent(ref reader),
            MessagePackType.Map => ReadMapEvent(ref reader),
            var other => throw new MessagePackSerializationException($"expected a KV event (array or map), got {other}"),
        };
    }

    private static KvCacheEvent? ReadArrayEvent(ref MessagePackReader reader)
    {
        var fields = reader.ReadArrayHeader();
        if (fields < 1)
        {
            throw new MessagePackSerializationException("KV event without a tag");
        }

        var tag = reader.ReadString();
        KvCacheEvent? result;
        int read;
        switch (tag)
        {
            case BlockStored.Tag:
                if (fields < 5)
                {
                    throw new MessagePackSerializationException($"BlockStored has {fields} fields, expected at least 5");
                }

                var hashes = ReadHashes(ref reader);
                var parent = ReadNullableHash(ref reader);
                var tokens = ReadTokens(ref reader);
                var blockSize = reader.ReadInt32();
                int? loraId = fields > 5 ? ReadNullableInt(ref reader) : null;
                var medium = fields > 6 ? reader.ReadString() : null;
                var loraName = fields > 7 ? reader.ReadString() : null;
                read = Math.Min(fields, 8);
                result = new BlockStored(hashes, parent, tokens, blockSize, loraId, medium, loraName);
                break;
            case BlockRemoved.Tag:
                var removed = ReadHashes(ref reader);
                var removedMedium = fields > 2 ? reader.ReadString() : null;
                read = Math.Min(fields, 3);
                result = new BlockRemoved(removed, removedMedium);
                break;
            case AllBlocksCleared.Tag:
                read = 1;
                result = new AllBlocksCleared();
                break;
            default:
                read = 1;
                result = null;
                break;
        }

        for (var i = read; i < fields; i++)
        {
            reader.Skip();
        }

        return result;
    }

    private static KvCacheEvent? ReadMapEvent(ref MessagePackReader reader)
    {
        var count = reader.ReadMapHeader();
        string? tag = null, medium = null, loraName = null;
        ulong[] hashes = [];
        ulong? parent = null;
        int[] tokens = [];
        int blockSize = 0;
        int? loraId = null;
        for (var i = 0; i < count; i++)
        {
            switch (reader.ReadString())
            {
                case MapTagKey: tag = reader.ReadString(); break;
                case "block_hashes": hashes = ReadHashes(ref reader); break;
                case "parent_block_hash": parent = ReadNullableHash(ref reader); break;
                case "token_ids": tokens = ReadTokens(ref reader); break;
                case "block_size": blockSize = reader.ReadInt32(); break;
                case "lora_id": loraId = ReadNullableInt(ref reader); break;
                case "medium": medium = reader.ReadString(); break;
                case "lora_name": loraName = reader.ReadString(); break;
                default: reader.Skip(); break;
            }
        }

        return tag switch
        {
            BlockStored.Tag => new BlockStored(hashes, parent, tokens, blockSize, loraId, medium, loraName),
            BlockRemoved.Tag => new BlockRemoved(hashes, medium),
            AllBlocksCleared.Tag => new AllBlocksCleared(),
            null => throw new MessagePackSerializationException("KV event map without a type"),
            _ => null,
        };
    }

    private static ulong[] ReadHashes(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        var hashes = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            hashes[i] = ReadHash(ref reader);
        }

        return hashes;
    }

    private static ulong? ReadNullableHash(ref MessagePackReader reader) => reader.TryReadNil() ? null : ReadHash(ref reader);

    private static int? ReadNullableInt(ref MessagePackReader reader) => reader.TryReadNil() ? null : reader.ReadInt32();

    private static ulong ReadHash(ref MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Binary:
                var bytes = reader.ReadBytes() ?? default;
                Span<byte> last8 = stackalloc byte[8];
                last8.Clear();
                var length = (int)Math.Min(8, bytes.Length);
                bytes.Slice(bytes.Length - length).CopyTo(last8[(8 - length)..]);
                return BinaryPrimitives.ReadUInt64BigEndian(last8);
            case MessagePackType.Integer:
                var code = reader.NextCode;
                // Signed encodings (negative fixint, int8..int64) are reinterpreted as 64 bits.
                return code is >= MessagePackCode.MinNegativeFixInt or MessagePackCode.Int8 or MessagePackCode.Int16
                    or MessagePackCode.Int32 or MessagePackCode.Int64
                    ? unchecked((ulong)reader.ReadInt64())
                    : reader.ReadUInt64();
            default:
                throw new MessagePackSerializationException($"expected a block hash (int or bytes), got {reader.NextMessagePackType}");
        }
    }

    private static int[] ReadTokens(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        var tokens = new int[count];
        for (var i = 0; i < count; i++)
        {
            tokens[i] = reader.ReadInt32();
        }

        return tokens;
    }
}
