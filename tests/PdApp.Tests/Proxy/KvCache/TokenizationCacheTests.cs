using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PdApp.Protocol;
using PdApp.Protocol.KvEvents;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.KvCache;

/// <summary>
/// The proxy's tokenization caches: whole requests (LRU, bounded by entries and bytes) and shared chat prefixes
/// (reused only once the model's template is verified to keep them, never after a contradiction).
/// </summary>
public sealed class TokenizationCacheTests
{
    private const int BlockSize = 4;
    private const string Model = "m";

    [Fact]
    public void Lru_EvictsTheLeastRecentlyUsedBeyondItsEntryBound()
    {
        var cache = new LruCache<string>(maxEntries: 2, maxBytes: 1000, cost: v => v.Length);
        cache.Set(1, "a");
        cache.Set(2, "b");
        Assert.True(cache.TryGet(1, out _)); // 1 is now the most recent

        cache.Set(3, "c");

        Assert.True(cache.TryGet(1, out _));
        Assert.False(cache.TryGet(2, out _));
        Assert.True(cache.TryGet(3, out _));
        Assert.Equal((2, 1L), (cache.Count, cache.Evictions));
    }

    [Fact]
    public void Lru_EvictsBeyondItsByteBound_AndNeverKeepsAValueLargerThanIt()
    {
        var cache = new LruCache<string>(maxEntries: 100, maxBytes: 100, cost: v => v.Length);
        cache.Set(1, new string('x', 60));
        cache.Set(2, new string('y', 60));

        Assert.False(cache.TryGet(1, out _));
        Assert.Equal(60, cache.Bytes);

        cache.Set(3, new string('z', 101));
        Assert.False(cache.TryGet(3, out _));
        Assert.True(cache.TryGet(2, out _));
    }

    [Fact]
    public void MultiTurnConversation_HistoryKeysAreReusedOnlyAfterTheTemplateIsVerified()
    {
        var prefixes = new ChatPrefixTokenizations(100, 1 << 20);
        var conversation = new List<(string Role, string Content)> { ("system", Words("policy", 40)) };
        for (var turn = 1; turn <= ChatPrefixTokenizations.VerificationsToTrust + 1; turn++)
        {
            conversation.Add(("user", Words("question" + turn, 12)));
            var hashes = Hashes(conversation);
            Assert.Null(prefixes.TryReuse(Model, hashes)); // not trusted yet: the engine is asked
            var outcome = prefixes.Observe(Model, hashes, ChatMl.Keys(conversation));
            Assert.Equal(turn == 1 ? null : true, outcome); // from turn 2 on, the history is checked, and matches
            conversation.Add(("assistant", Words("answer" + turn, 20)));
        }

        conversation.Add(("user", Words("follow-up", 12)));
        var reused = prefixes.TryReuse(Model, Hashes(conversation));

        // The previous request's keys but its last block: a prefix of what the engine would answer, nearly all of it.
        var truth = ChatMl.Keys(conversation);
        var previous = ChatMl.Keys(conversation[..^2]);
        Assert.NotNull(reused);
        Assert.True(truth.AsSpan().StartsWith(reused));
        Assert.Equal(previous.Length - 1, reused.Length);
    }

    [Fact]
    public void SharedSystemPrompt_IsLearnedFromTwoUsers_AndReusedForTheNext()
    {
        var prefixes = new ChatPrefixTokenizations(100, 1 << 20);
        var system = ("system", Words("you are a helpful travel agent", 30));
        var user = 0;
        List<(string, string)> NextUser() => [system, ("user", Words("trip" + ++user, 10))];

        // Users 1 and 2 teach where the system prompt ends; 3..5 verify it.
        for (var i = 0; i < 2 + ChatPrefixTokenizations.VerificationsToTrust; i++)
        {
            var request = NextUser();
            Assert.Null(prefixes.TryReuse(Model, Hashes(request)));
            prefixes.Observe(Model, Hashes(request), ChatMl.Keys(request));
        }

        Assert.True(prefixes.IsTrusted(Model));
        var next = NextUser();
        var reused = prefixes.TryReuse(Model, Hashes(next));

        var systemOnly = ChatMl.Tokens([system]).Length / BlockSize; // full blocks of the system turn
        Assert.NotNull(reused);
        Assert.True(ChatMl.Keys(next).AsSpan().StartsWith(reused));
        Assert.InRange(reused.Length, systemOnly - 1, systemOnly + 1);
    }

    [Fact]
    public void IdenticalContinuations_TeachNothing()
    {
        var prefixes = new ChatPrefixTokenizations(100, 1 << 20);
        List<(string, string)> request = [("system", Words("s", 20)), ("user", Words("u", 20))];
        var hashes = Hashes(request);

        // The same two messages, e.g. with different sampling settings: nothing says where the first one ends.
        prefixes.Observe(Model, hashes, ChatMl.Keys(request));
        prefixes.Observe(Model, hashes, ChatMl.Keys(request));

        Assert.Null(prefixes.TryReuse(Model, Hashes([request[0], ("user", Words("other", 20))])));
        Assert.False(prefixes.Entries.TryGet(hashes[0], out var entry) && entry.Usable);
    }

    [Fact]
    public void TemplateThatRewritesEarlierTurns_TurnsReuseOffForTheModel()
    {
        // A template that opens with the number of messages: a conversation's tokens are never a prefix of the next turn's.
        var prefixes = new ChatPrefixTokenizations(100, 1 << 20);
        var conversation = new List<(string Role, string Content)> { ("system", Words("policy", 40)) };
        bool? last = null;
        for (var turn = 1; turn <= 2 * ChatPrefixTokenizations.VerificationsToTrust; turn++)
        {
            conversation.Add(("user", Words("question" + turn, 12)));
            var keys = KvBlockHasher.HashBlocks([conversation.Count, .. ChatMl.Tokens(conversation)], BlockSize);
            last = prefixes.Observe(Model, Hashes(conversation), keys) ?? last;
            conversation.Add(("assistant", Words("answer" + turn, 20)));
        }

        Assert.False(last);
        Assert.True(prefixes.IsRefuted(Model));
        Assert.False(prefixes.IsTrusted(Model));
        Assert.Null(prefixes.TryReuse(Model, Hashes(conversation)));

        // Another model is judged on its own.
        Assert.False(prefixes.IsRefuted("other"));
    }

    [Fact]
    public async Task EngineTokenizer_RepeatedPromptsAndGrowingConversations_SpareTheEnginesTokenizeCalls()
    {
        await using var simulator = await SimulatorInstance.StartAsync("decode-0");
        using var counting = new CountingHandler(new SocketsHttpHandler());
        var options = new KvCacheOptions { BlockSize = BlockSize, TokenizeTimeoutSeconds = 60 }; // a loaded machine JITs the first call slowly
        using var meterFactory = new DetachedMeterFactory();
        using var tokenizer = new EngineTokenizer(
            Microsoft.Extensions.Options.Options.Create(options), new KvCacheMeter(meterFactory), NullLogger<EngineTokenizer>.Instance, counting);
        var engine = new UpstreamInstance("decode-0", PdRole.Decode, simulator.BaseAddress, InstanceSource.Configuration);

        // A completion prompt asked twice: one call.
        var completion = Body(new { model = "/data/dp7b/", prompt = Words("the harbour of lisbon", 20) });
        var first = await tokenizer.TokenizeAsync(completion, chat: false, engine, CancellationToken.None);
        var again = await tokenizer.TokenizeAsync(completion, chat: false, engine, CancellationToken.None);
        Assert.NotNull(first);
        Assert.Same(first, again);
        Assert.Equal(1, counting.Calls);

        // A conversation: every turn is tokenized by the engine until the template is verified, then only the history's keys are used.
        var messages = new List<object> { new { role = "system", content = Words("you plan trips", 30) } };
        TokenizedPrompt? previous = null;
        for (var turn = 1; turn <= ChatPrefixTokenizations.VerificationsToTrust + 2; turn++)
        {
            messages.Add(new { role = "user", content = Words("where next " + turn, 8) });
            var calls = counting.Calls;
            var tokenized = await tokenizer.TokenizeAsync(Body(new { model = "/data/dp7b/", messages }), chat: true, engine, CancellationToken.None);
            Assert.NotNull(tokenized);
            var trusted = turn > ChatPrefixTokenizations.VerificationsToTrust + 1;
            Assert.Equal(trusted ? calls : calls + 1, counting.Calls);
            if (trusted)
            {
                // The history's keys, unknown length: a prefix of the previous turn's own keys.
                Assert.Equal(0, tokenized.Tokens);
                Assert.True(previous!.Keys.AsSpan().StartsWith(tokenized.Keys));
                Assert.Equal(previous.Keys.Length - 1, tokenized.Keys.Length);
            }

            previous = tokenized;
            messages.Add(new { role = "assistant", content = Words("go to porto " + turn, 10) });
        }
    }

    [Fact]
    public async Task EngineTokenizer_ContinuedFinalMessage_IsTokenizedAsTheEngineRendersIt()
    {
        await using var simulator = await SimulatorInstance.StartAsync("decode-0");
        using var counting = new CountingHandler(new SocketsHttpHandler());
        var options = new KvCacheOptions { BlockSize = BlockSize, TokenizeTimeoutSeconds = 60 };
        using var meterFactory = new DetachedMeterFactory();
        using var tokenizer = new EngineTokenizer(
            Microsoft.Extensions.Options.Options.Create(options), new KvCacheMeter(meterFactory), NullLogger<EngineTokenizer>.Instance, counting);
        var engine = new UpstreamInstance("decode-0", PdRole.Decode, simulator.BaseAddress, InstanceSource.Configuration);
        object[] messages =
        [
            new { role = "user", content = Words("tell me about the tagus river", 40) },
            new { role = "assistant", content = Words("the tagus rises in spain and", 30) },
        ];

        // A migrated chat stream's continuation: the final assistant message is continued, no generation prompt.
        var plain = await tokenizer.TokenizeAsync(Body(new { model = "/data/dp7b/", messages }), chat: true, engine, CancellationToken.None);
        var continued = await tokenizer.TokenizeAsync(
            Body(new { model = "/data/dp7b/", messages, continue_final_message = true, add_generation_prompt = false }), chat: true, engine, CancellationToken.None);

        Assert.Equal(2, counting.Calls);
        Assert.NotNull(plain);
        Assert.NotNull(continued);
        using var client = new HttpClient { BaseAddress = simulator.BaseAddress };
        using var engineAnswer = await client.PostAsJsonAsync(
            "/tokenize", new { model = "/data/dp7b/", messages, continue_final_message = true, add_generation_prompt = false });
        var engineTokens = (await engineAnswer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tokens").GetArrayLength();
        Assert.Equal(engineTokens, continued.Tokens);
        Assert.NotEqual(plain.Tokens, continued.Tokens);
    }

    private static JsonElement Body(object body) => JsonSerializer.SerializeToElement(body);

    private static string Words(string seed, int count) =>
        string.Join(' ', Enumerable.Range(0, count).Select(i => seed.Split(' ')[i % seed.Split(' ').Length] + (i % 7)));

    private static UInt128[] Hashes(IEnumerable<(string Role, string Content)> messages) =>
        ChatPrefixTokenizations.PrefixHashes(Model, JsonSerializer.SerializeToElement(messages.Select(m => new { role = m.Role, content = m.Content })))!;

    /// <summary>A ChatML rendering tokenized one id per word or marker: prefix-keeping, as real ChatML templates are.</summary>
    private static class ChatMl
    {
        public static int[] Tokens(IEnumerable<(string Role, string Content)> messages)
        {
            var text = new StringBuilder();
            foreach (var (role, content) in messages)
            {
                text.Append("<|im_start|> ").Append(role).Append(' ').Append(content).Append(" <|im_end|> ");
            }

            text.Append("<|im_start|> assistant");
            return [.. text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.GetHashCode(StringComparison.Ordinal) & 0x7fffffff)];
        }

        public static ulong[] Keys(IEnumerable<(string Role, string Content)> messages) => KvBlockHasher.HashBlocks(Tokens(messages), BlockSize);
    }

    private sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
