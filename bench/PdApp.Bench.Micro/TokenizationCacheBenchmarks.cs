using System.Text.Json;
using BenchmarkDotNet.Attributes;
using PdApp.Proxy.Routing.KvCache;

namespace PdApp.Bench.Micro;

/// <summary>
/// What the tokenization caches cost on the request path, for a chat of 20 messages (~16 KB): the chained
/// hashes of its message prefixes and the reuse of a known 19-message prefix (what replaces a
/// <c>/tokenize</c> round trip once the template is trusted), and an LRU hit of a whole request.
/// </summary>
[MemoryDiagnoser]
public class TokenizationCacheBenchmarks
{
    private const string Model = "dp7b";
    private JsonElement _messages;
    private ChatPrefixTokenizations _prefixes = new(4096, 64L << 20);
    private LruCache<TokenizedPrompt> _cache = new(4096, 64L << 20, p => 96 + (p.Keys.Length * 8));
    private UInt128[] _hashes = [];

    /// <summary>Builds a 20-message conversation and teaches the store its first 19 messages, verified.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var messages = Enumerable.Range(0, 20)
            .Select(i => new { role = i == 0 ? "system" : i % 2 == 1 ? "user" : "assistant", content = new string((char)('a' + (i % 26)), 800) })
            .ToArray();
        _messages = JsonSerializer.SerializeToElement(messages);
        _prefixes = new ChatPrefixTokenizations(4096, 64L << 20);
        var history = JsonSerializer.SerializeToElement(messages[..19]);
        var historyKeys = Enumerable.Range(0, 250).Select(i => (ulong)i + 1).ToArray();
        for (var i = 0; i <= ChatPrefixTokenizations.VerificationsToTrust; i++)
        {
            _prefixes.Observe(Model, ChatPrefixTokenizations.PrefixHashes(Model, history)!, historyKeys);
        }

        _hashes = ChatPrefixTokenizations.PrefixHashes(Model, _messages)!;
        _cache = new LruCache<TokenizedPrompt>(4096, 64L << 20, p => 96 + (p.Keys.Length * 8));
        for (var i = 0; i < 4096; i++)
        {
            _cache.Set((UInt128)i, new TokenizedPrompt(historyKeys, 4000));
        }
    }

    /// <summary>The chained prefix hashes of a 20-message chat (SHA-256 over ~16 KB).</summary>
    [Benchmark]
    public int PrefixHashes() => ChatPrefixTokenizations.PrefixHashes(Model, _messages)!.Length;

    /// <summary>Reusing the known 19-message history's keys (the lookup, hashes already computed).</summary>
    [Benchmark]
    public int ReusePrefix() => _prefixes.TryReuse(Model, _hashes)?.Length ?? 0;

    /// <summary>The prefix hashes and the reuse together: what a trusted chat request pays instead of <c>/tokenize</c>.</summary>
    [Benchmark]
    public int HashAndReuse() => _prefixes.TryReuse(Model, ChatPrefixTokenizations.PrefixHashes(Model, _messages)!)?.Length ?? 0;

    /// <summary>A whole-request hit in a full 4,096-entry LRU.</summary>
    [Benchmark]
    public int LruHit() => _cache.TryGet(1234, out var hit) ? hit.Tokens : 0;
}
