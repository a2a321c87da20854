using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// Block keys of shared chat prefixes (a long system prompt many users send, the history a multi-turn conversation
/// resends), so a request that extends a known prefix is routed without a <c>/tokenize</c> call.
/// <para>
/// Why this is safe. The proxy never joins token ids of separately tokenized pieces (byte-pair merges can change
/// at the join). It only reuses <em>block keys the engine itself produced</em>, and only where those blocks are
/// known to recur: (1) for a whole message list, the keys of its engine tokenization minus the last block (which
/// holds the generation prompt a follow-up turn replaces); (2) for a strict prefix of the messages, the common
/// leading keys of two engine tokenizations that share those messages and then differ: blocks both contain.
/// Each rests on one assumption, that the chat template renders the first k messages the same whatever follows
/// (true of ChatML, Llama 3, Mistral; false of templates that rewrite earlier turns, such as ones that strip a
/// reasoning model's earlier thoughts). So reuse is verified per model before it is used: while a model is not
/// trusted every request is still tokenized by the engine and each known prefix is checked against the engine's
/// answer; after <see cref="VerificationsToTrust"/> matches and no mismatch the prefix keys are used, and one
/// mismatch turns reuse off for that model for good (counted, logged). A reused answer has only the prefix's keys
/// and no token count, so it steers the KV-aware choice but never the cache-aware PD decision.
/// </para>
/// </summary>
internal sealed class ChatPrefixTokenizations
{
    /// <summary>Prefix checks that must match before a model's prefixes are reused.</summary>
    public const int VerificationsToTrust = 3;

    /// <summary>Messages a request may have for its prefixes to be followed (longer ones are tokenized as before).</summary>
    public const int MaxMessages = 256;

    private readonly LruCache<PrefixEntry> _prefixes;
    private readonly ConcurrentDictionary<string, ModelTrust> _trust = new(StringComparer.Ordinal);

    public ChatPrefixTokenizations(int maxEntries, long maxBytes) =>
        _prefixes = new LruCache<PrefixEntry>(maxEntries, maxBytes, entry => 96 + (entry.Keys.Length * sizeof(ulong)));

    /// <summary>The prefix entries (metrics).</summary>
    public LruCache<PrefixEntry> Entries => _prefixes;

    /// <summary>
    /// The chained hashes of the message list's prefixes: element <c>k-1</c> identifies the first <c>k</c> messages
    /// (exact JSON, model included); null when <paramref name="messages"/> is not an array of 1 to
    /// <see cref="MaxMessages"/> messages.
    /// </summary>
    /// <param name="model">The request's model.</param>
    /// <param name="messages">The <c>messages</c> array.</param>
    /// <returns>The hashes, one per message.</returns>
    public static UInt128[]? PrefixHashes(string model, JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() is 0 or > MaxMessages)
        {
            return null;
        }

        // One running SHA-256 over the model and each message's raw UTF-8 JSON (length-prefixed, so message
        // boundaries are part of what is hashed); its state after message k identifies the first k messages.
        var hashes = new UInt128[messages.GetArrayLength()];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes("chat-prefix\n" + model + "\n"));
        Span<byte> digest = stackalloc byte[32];
        Span<byte> length = stackalloc byte[sizeof(int)];
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var raw = JsonMarshal.GetRawUtf8Value(message);
            BinaryPrimitives.WriteInt32LittleEndian(length, raw.Length);
            hash.AppendData(length);
            hash.AppendData(raw);
            hash.GetCurrentHash(digest);
            hashes[i++] = BinaryPrimitives.ReadUInt128LittleEndian(digest);
        }

        return hashes;
    }

    /// <summary>Whether prefixes of <paramref name="model"/> are reused (verified, never contradicted).</summary>
    /// <param name="model">The model.</param>
    /// <returns>True once trusted.</returns>
    public bool IsTrusted(string model) => _trust.TryGetValue(model, out var trust) && trust.IsTrusted;

    /// <summary>Whether a mismatch turned reuse off for <paramref name="model"/>.</summary>
    /// <param name="model">The model.</param>
    /// <returns>True once refuted.</returns>
    public bool IsRefuted(string model) => _trust.TryGetValue(model, out var trust) && trust.Refuted;

    /// <summary>The keys of the longest known prefix of the request, when its model is trusted.</summary>
    /// <param name="model">The model.</param>
    /// <param name="hashes">The request's <see cref="PrefixHashes"/>.</param>
    /// <returns>The keys, or null.</returns>
    public ulong[]? TryReuse(string model, UInt128[] hashes) =>
        IsTrusted(model) && Longest(hashes, hashes.Length) is { } entry ? entry.Keys : null;

    /// <summary>
    /// Learns from an engine tokenization of a request: checks the longest known prefix against it (the
    /// verification), then records the request's own prefixes.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="hashes">The request's <see cref="PrefixHashes"/>.</param>
    /// <param name="keys">The block keys of the engine's tokenization of the whole request.</param>
    /// <returns>The check's outcome: null when there was nothing to check, else whether the prefix matched.</returns>
    public bool? Observe(string model, UInt128[] hashes, ulong[] keys)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(keys);
        bool? matched = null;
        var trust = _trust.GetOrAdd(model, _ => new ModelTrust());
        if (!trust.Refuted && Longest(hashes, hashes.Length) is { } known)
        {
            matched = keys.AsSpan().StartsWith(known.Keys);
            trust.Record(matched.Value);
        }

        for (var k = 1; k <= hashes.Length; k++)
        {
            var hash = hashes[k - 1];
            var whole = k == hashes.Length;
            UInt128? next = whole ? null : hashes[k];
            _prefixes.TryGet(hash, out var existing);
            if (whole)
            {
                // The whole list: all but the last block (which holds the generation prompt a next turn replaces).
                var trimmed = keys.Length > 1 ? keys[..^1] : [];
                var usable = existing is { Usable: true } ? CommonPrefix(existing.Keys, trimmed) : trimmed;
                if (usable.Length > 0)
                {
                    _prefixes.Set(hash, new PrefixEntry(usable, null, Usable: true));
                }
            }
            else if (existing is null)
            {
                // One sighting of a strict prefix: where its messages end in tokens is not known yet.
                _prefixes.Set(hash, new PrefixEntry(keys, next, Usable: false));
            }
            else if (existing.Next != next)
            {
                // A second sighting that continues differently: what both hold belongs to the shared messages.
                var common = CommonPrefix(existing.Keys, keys);
                if (common.Length > 0)
                {
                    _prefixes.Set(hash, new PrefixEntry(common, next, Usable: true));
                }
            }
        }

        return matched;
    }

    private PrefixEntry? Longest(UInt128[] hashes, int upTo)
    {
        for (var k = upTo; k >= 1; k--)
        {
            if (_prefixes.TryGet(hashes[k - 1], out var entry) && entry.Usable && entry.Keys.Length > 0)
            {
                return entry;
            }
        }

        return null;
    }

    private static ulong[] CommonPrefix(ulong[] a, ulong[] b)
    {
        var length = a.AsSpan().CommonPrefixLength(b);
        return length == a.Length ? a : a[..length];
    }

    /// <summary>What is known of one message prefix.</summary>
    /// <param name="Keys">Block keys (usable: keys of blocks the prefix's tokens fill; else one sighting's keys).</param>
    /// <param name="Next">The hash of the prefix extended by the sighting's next message (null: the sighting ended here).</param>
    /// <param name="Usable">Whether <paramref name="Keys"/> may be reused for a request that extends the prefix.</param>
    internal sealed record PrefixEntry(ulong[] Keys, UInt128? Next, bool Usable);

    private sealed class ModelTrust
    {
        private int _matches;
        private volatile bool _refuted;

        public bool Refuted => _refuted;

        public bool IsTrusted => !_refuted && Volatile.Read(ref _matches) >= VerificationsToTrust;

        public void Record(bool matched)
        {
            if (matched)
            {
                Interlocked.Increment(ref _matches);
            }
            else
            {
                _refuted = true;
            }
        }
    }
}
