namespace PdApp.Protocol.KvEvents;

/// <summary>
/// One KV cache event as vLLM publishes it (vllm/distributed/kv_events.py <c>KVCacheEvent</c>, a
/// msgspec tagged union whose tag is the class name).
/// </summary>
public abstract record KvCacheEvent;

/// <summary>Full blocks entered the prefix cache (<c>BlockStored</c>).</summary>
/// <param name="BlockHashes">The engine's hashes of the new blocks, in chain order.</param>
/// <param name="ParentBlockHash">The engine's hash of the block before the first one, or null at the prompt's start.</param>
/// <param name="TokenIds">The blocks' tokens, concatenated (<c>BlockHashes.Count</c> x <c>BlockSize</c>).</param>
/// <param name="BlockSize">Tokens per block.</param>
/// <param name="LoraId">The LoRA adapter id, if any (deprecated by vLLM for <paramref name="LoraName"/>).</param>
/// <param name="Medium">Where the blocks live (<c>GPU</c>, <c>CPU</c>), if given.</param>
/// <param name="LoraName">The LoRA adapter name, if any.</param>
public sealed record BlockStored(
    IReadOnlyList<ulong> BlockHashes,
    ulong? ParentBlockHash,
    IReadOnlyList<int> TokenIds,
    int BlockSize,
    int? LoraId,
    string? Medium,
    string? LoraName) : KvCacheEvent
{
    /// <summary>The tag vLLM writes.</summary>
    public const string Tag = "BlockStored";
}

/// <summary>Blocks left the prefix cache (<c>BlockRemoved</c>).</summary>
/// <param name="BlockHashes">The engine's hashes of the evicted blocks.</param>
/// <param name="Medium">Where the blocks lived, if given.</param>
public sealed record BlockRemoved(IReadOnlyList<ulong> BlockHashes, string? Medium) : KvCacheEvent
{
    /// <summary>The tag vLLM writes.</summary>
    public const string Tag = "BlockRemoved";
}

/// <summary>The whole prefix cache was reset (<c>AllBlocksCleared</c>).</summary>
public sealed record AllBlocksCleared : KvCacheEvent
{
    /// <summary>The tag vLLM writes.</summary>
    public const string Tag = "AllBlocksCleared";
}

/// <summary>One published batch (<c>KVEventBatch</c>): a timestamp, the events of one engine step, the DP rank.</summary>
/// <param name="Timestamp">Unix time in seconds (<c>time.time()</c>).</param>
/// <param name="Events">The events, in order.</param>
/// <param name="DataParallelRank">The publishing data-parallel rank, if written.</param>
public sealed record KvEventBatch(double Timestamp, IReadOnlyList<KvCacheEvent> Events, int? DataParallelRank);
