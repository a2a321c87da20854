using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol.KvEvents;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// Turns a request's prompt into block keys by asking an engine's <c>POST /tokenize</c> (vLLM's
/// endpoint: <c>{"model","prompt"}</c> or <c>{"model","messages","add_generation_prompt":true}</c> plus the
/// request's own template fields (<see cref="ChatTemplateFields"/>) ->
/// <c>{"tokens":[...]}</c>), then hashing full blocks with <see cref="KvBlockHasher"/>. The engine
/// applies its own tokenizer and chat template, so the keys are exactly the ones its prefix cache
/// uses, for any model, without tokenizer files or a template engine in the proxy.
/// Two caches spare repeated calls: every answer is kept under a SHA-256 of the exact request
/// (model, field, JSON), least recently used first out, bounded by entries and bytes; and chat
/// requests that extend a known message prefix (a shared system prompt, a conversation's history)
/// reuse that prefix's keys once the model's template is verified to keep prefixes
/// (<see cref="ChatPrefixTokenizations"/>). A failed or slow call gives no keys: the policy falls back.
/// </summary>
internal sealed partial class EngineTokenizer : IDisposable
{
    private readonly HttpClient _client;
    private readonly LruCache<TokenizedPrompt> _cache;
    private readonly ChatPrefixTokenizations? _prefixes;
    private readonly KvCacheOptions _options;
    private readonly KvCacheMeter _meter;
    private readonly ILogger<EngineTokenizer> _logger;

    public EngineTokenizer(IOptions<KvCacheOptions> options, KvCacheMeter meter, ILogger<EngineTokenizer> logger)
        : this(options, meter, logger, handler: null)
    {
    }

    /// <summary>Creates the tokenizer over <paramref name="handler"/> (tests), or its own connection pool.</summary>
    internal EngineTokenizer(IOptions<KvCacheOptions> options, KvCacheMeter meter, ILogger<EngineTokenizer> logger, HttpMessageHandler? handler)
    {
        _options = options.Value;
        _meter = meter;
        _logger = logger;
        _client = new HttpClient(handler ?? new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
        {
            Timeout = TimeSpan.FromSeconds(_options.TokenizeTimeoutSeconds),
        };
        _cache = new LruCache<TokenizedPrompt>(_options.TokenizationCacheSize, _options.TokenizationCacheBytes, prompt => 96 + (prompt.Keys.Length * sizeof(ulong)));
        _prefixes = _options.ReusePrefixTokenizations && _options.TokenizationCacheSize > 0
            ? new ChatPrefixTokenizations(_options.TokenizationCacheSize, _options.TokenizationCacheBytes)
            : null;
        _meter.ObserveTokenizationCache(_cache, _prefixes?.Entries);
    }

    /// <summary>Cached tokenizations of whole requests (tests).</summary>
    public int Cached => _cache.Count;

    /// <summary>The chat prefix store, when prefix reuse is on (tests).</summary>
    internal ChatPrefixTokenizations? Prefixes => _prefixes;

    /// <summary>The block keys and token count of a request's prompt, or null when it could not be tokenized.</summary>
    /// <param name="root">The request body.</param>
    /// <param name="chat">Whether it is a chat request (<c>messages</c>) rather than a completion (<c>prompt</c>).</param>
    /// <param name="engine">The engine to ask.</param>
    /// <param name="cancellationToken">The client's cancellation.</param>
    /// <returns>The keys and token count.</returns>
    public async ValueTask<TokenizedPrompt?> TokenizeAsync(JsonElement root, bool chat, UpstreamInstance engine, CancellationToken cancellationToken)
    {
        var field = chat ? "messages" : "prompt";
        if (!root.TryGetProperty(field, out var prompt))
        {
            return null;
        }

        var model = root.TryGetProperty("model", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
        var templated = chat && HasTemplateFields(root);
        var cacheKey = CacheKey(field, model, prompt, templated ? root : null);
        if (_cache.TryGet(cacheKey, out var cached))
        {
            _meter.Tokenization("cache");
            return cached;
        }

        // Prefix reuse assumes vLLM's default rendering (a generation prompt after the last message):
        // a request that renders otherwise (a continued final message, its own template) asks the engine.
        var prefixHashes = chat && !templated && _prefixes is not null ? ChatPrefixTokenizations.PrefixHashes(model ?? string.Empty, prompt) : null;
        if (prefixHashes is not null && _prefixes!.TryReuse(model ?? string.Empty, prefixHashes) is { } prefixKeys)
        {
            // Only the shared prefix's keys: enough to find who holds it, not the prompt's length (Tokens 0 = unknown).
            _meter.Tokenization("prefix");
            return new TokenizedPrompt(prefixKeys, 0);
        }

        var body = new JsonObject { [field] = JsonNode.Parse(prompt.GetRawText()) };
        if (model is not null)
        {
            body["model"] = model;
        }

        if (chat)
        {
            // Rendered as the engine will render the request itself: vLLM's defaults, then the request's own choices.
            body["add_generation_prompt"] = true;
            foreach (var option in ChatTemplateFields)
            {
                if (root.TryGetProperty(option, out var value))
                {
                    body[option] = JsonNode.Parse(value.GetRawText());
                }
            }
        }

        try
        {
            using var response = await _client.PostAsJsonAsync(new Uri(engine.BaseAddress, "tokenize"), body, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                _meter.Tokenization("failed");
                LogFailed(engine.Name, $"status {(int)response.StatusCode}");
                return null;
            }

            using var document = await JsonDocument.ParseAsync(
                await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!document.RootElement.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
            {
                _meter.Tokenization("failed");
                LogFailed(engine.Name, "no tokens in the answer");
                return null;
            }

            var ids = new int[tokens.GetArrayLength()];
            var i = 0;
            foreach (var token in tokens.EnumerateArray())
            {
                ids[i++] = token.GetInt32();
            }

            var keys = new TokenizedPrompt(KvBlockHasher.HashBlocks(ids, _options.BlockSize), ids.Length);
            _cache.Set(cacheKey, keys);
            if (prefixHashes is not null && _prefixes!.Observe(model ?? string.Empty, prefixHashes, keys.Keys) is { } matched)
            {
                _meter.PrefixCheck(matched);
                if (!matched && _prefixes.IsRefuted(model ?? string.Empty))
                {
                    LogPrefixRefuted(model ?? "(none)");
                }
            }

            _meter.Tokenization("engine");
            return keys;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or FormatException or InvalidOperationException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _meter.Tokenization("failed");
            LogFailed(engine.Name, ex.Message);
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    /// <summary>
    /// The chat request fields that change how vLLM's <c>/tokenize</c> renders messages (the same
    /// names in both APIs, vllm/entrypoints/openai/protocol.py <c>TokenizeChatRequest</c>): a migrated
    /// stream's continuation, for one, sets <c>continue_final_message</c> and no generation prompt.
    /// </summary>
    internal static readonly string[] ChatTemplateFields =
        ["add_generation_prompt", "continue_final_message", "add_special_tokens", "chat_template", "chat_template_kwargs", "tools"];

    private static bool HasTemplateFields(JsonElement root)
    {
        foreach (var field in ChatTemplateFields)
        {
            if (root.TryGetProperty(field, out _))
            {
                return true;
            }
        }

        return false;
    }

    // Hashes text and a line break without building a string per request.
    private static void AppendLine(IncrementalHash hash, string? text)
    {
        text ??= string.Empty;
        var most = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> bytes = most <= 256 ? stackalloc byte[256] : new byte[most];
        hash.AppendData(bytes[..System.Text.Encoding.UTF8.GetBytes(text, bytes)]);
        hash.AppendData("\n"u8);
    }

    private static UInt128 CacheKey(string field, string? model, JsonElement prompt, JsonElement? templated)
    {
        // The prompt's raw UTF-8 JSON as received, without copying it into a string.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendLine(hash, field);
        AppendLine(hash, model);
        hash.AppendData(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(prompt));
        if (templated is { } root)
        {
            for (var i = 0; i < ChatTemplateFields.Length; i++)
            {
                if (root.TryGetProperty(ChatTemplateFields[i], out var value))
                {
                    // A field is named by its position in ChatTemplateFields.
                    hash.AppendData([(byte)'\n', (byte)i]);
                    hash.AppendData(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value));
                }
            }
        }

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tokenizing on {Instance} failed: {Reason}; the request is routed without KV cache information")]
    private partial void LogFailed(string instance, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The chat template of model {Model} does not keep earlier messages' tokens when a conversation grows; chat prefixes are no longer reused for it (every request is tokenized by the engine)")]
    private partial void LogPrefixRefuted(string model);
}

/// <summary>A prompt as the engine tokenized it.</summary>
/// <param name="Keys">Block keys of its full blocks (for a reused chat prefix: the prefix's).</param>
/// <param name="Tokens">Its token count; 0 when unknown (a reused prefix).</param>
internal sealed record TokenizedPrompt(ulong[] Keys, int Tokens);
