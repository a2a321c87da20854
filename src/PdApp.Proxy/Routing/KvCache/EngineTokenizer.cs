using System.Collections.Concurrent;
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
/// endpoint: <c>{"model","prompt"}</c> or <c>{"model","messages","add_generation_prompt":true}</c> ->
/// <c>{"tokens":[...]}</c>), then hashing full blocks with <see cref="KvBlockHasher"/>. The engine
/// applies its own tokenizer and chat template, so the keys are exactly the ones its prefix cache
/// uses, for any model, without tokenizer files or a template engine in the proxy. Results are
/// cached by a SHA-256 of the prompt (bounded; cleared when full), so repeated prompts cost no call.
/// A failed or slow call gives no keys: the policy falls back.
/// </summary>
internal sealed partial class EngineTokenizer : IDisposable
{
    private readonly HttpClient _client;
    private readonly ConcurrentDictionary<UInt128, TokenizedPrompt> _cache = new();
    private readonly KvCacheOptions _options;
    private readonly KvCacheMeter _meter;
    private readonly ILogger<EngineTokenizer> _logger;

    public EngineTokenizer(IOptions<KvCacheOptions> options, KvCacheMeter meter, ILogger<EngineTokenizer> logger)
    {
        _options = options.Value;
        _meter = meter;
        _logger = logger;
        _client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
        {
            Timeout = TimeSpan.FromSeconds(_options.TokenizeTimeoutSeconds),
        };
    }

    /// <summary>Cached tokenizations (tests).</summary>
    public int Cached => _cache.Count;

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

        var cacheKey = CacheKey(field, prompt);
        if (_cache.TryGetValue(cacheKey, out var cached))
        {
            _meter.Tokenization("cache");
            return cached;
        }

        var body = new JsonObject { [field] = JsonNode.Parse(prompt.GetRawText()) };
        if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String)
        {
            body["model"] = model.GetString();
        }

        if (chat)
        {
            body["add_generation_prompt"] = true;
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
            if (_options.TokenizationCacheSize > 0)
            {
                if (_cache.Count >= _options.TokenizationCacheSize)
                {
                    _cache.Clear();
                }

                _cache[cacheKey] = keys;
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

    private static UInt128 CacheKey(string field, JsonElement prompt)
    {
        Span<byte> hash = stackalloc byte[32];
        var text = field + "\n" + prompt.GetRawText();
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tokenizing on {Instance} failed: {Reason}; the request is routed without KV cache information")]
    private partial void LogFailed(string instance, string reason);
}

/// <summary>A prompt as the engine tokenized it.</summary>
/// <param name="Keys">Block keys of its full blocks.</param>
/// <param name="Tokens">Its token count.</param>
internal sealed record TokenizedPrompt(ulong[] Keys, int Tokens);
