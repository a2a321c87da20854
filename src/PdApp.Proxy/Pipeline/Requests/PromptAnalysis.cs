using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using PdApp.Proxy.Routing.Balancing;

namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>
/// The prefix-affinity key of a request's rendered prompt and a cheap token estimate. The rendering
/// covers the whole prompt in order (every chat message, not only the first): two requests sharing a
/// prefix share a prefix of it. The estimate is not a tokenizer: token id prompts count exactly, text
/// counts as characters / 4 rounded up (about right for English with BPE vocabularies; only used for
/// the skip-prefill threshold). The rendering is never kept as text: its first <c>maxTextLength</c>
/// characters (the affinity key's length, or none when no policy reads it) are hashed as they are
/// produced, since a request holds its <see cref="CompletionRequest"/> for the whole stream and even
/// 512 characters are ~1 KB per stream (bench/RESULTS.md 4.16, 4.20). The estimate counts the whole
/// prompt either way.
/// </summary>
/// <param name="AffinityKey">
/// <see cref="StableHash"/> of the rendering's first characters (at most the length asked for), or null
/// when none were asked for or the rendering is empty.
/// </param>
/// <param name="EstimatedTokens">The estimate.</param>
public readonly record struct PromptAnalysis(ulong? AffinityKey, int EstimatedTokens)
{
    private const int CharactersPerToken = 4;

    /// <summary>Reads <c>prompt</c> of a completions body: a string, strings, token ids, or lists of token ids.</summary>
    /// <param name="root">The body.</param>
    /// <param name="prompt">The analysis.</param>
    /// <param name="maxTextLength">The characters of the rendered prompt that <see cref="AffinityKey"/> covers.</param>
    /// <returns>Null, or the error naming <c>prompt</c>.</returns>
    public static RequestValidationError? TryCompletionPrompt(JsonElement root, out PromptAnalysis prompt, int maxTextLength = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTextLength);
        prompt = default;
        if (!root.TryGetProperty("prompt", out var element))
        {
            return RequestValidationError.Invalid("'prompt' is required.", "prompt");
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            // The common case: the text is the prompt itself.
            var single = new BoundedText(maxTextLength).AppendString(element);
            prompt = new PromptAnalysis(single.Key, Estimate(single.Length));
            return null;
        }

        var text = new BoundedText(maxTextLength);
        var tokenIds = 0;
        switch (element.ValueKind)
        {
            case JsonValueKind.Array when element.GetArrayLength() > 0:
                foreach (var item in element.EnumerateArray())
                {
                    switch (item.ValueKind)
                    {
                        case JsonValueKind.String:
                            text.AppendString(item).Append('\n');
                            break;
                        case JsonValueKind.Number:
                            text.AppendNumber(item);
                            tokenIds++;
                            break;
                        case JsonValueKind.Array:
                            foreach (var id in item.EnumerateArray())
                            {
                                if (id.ValueKind != JsonValueKind.Number)
                                {
                                    return Invalid();
                                }

                                text.AppendNumber(id);
                                tokenIds++;
                            }

                            text.Append('\n');
                            break;
                        default:
                            return Invalid();
                    }
                }

                break;
            default:
                return Invalid();
        }

        prompt = new PromptAnalysis(text.Key, tokenIds > 0 ? tokenIds : Estimate(text.Length));
        return null;

        static RequestValidationError Invalid() => RequestValidationError.Invalid(
            "'prompt' must be a non-empty string, array of strings, array of token ids or array of token id arrays.", "prompt");
    }

    /// <summary>Reads <c>messages</c> of a chat body and renders every message as <c>role: content</c>.</summary>
    /// <param name="root">The body.</param>
    /// <param name="prompt">The analysis.</param>
    /// <param name="maxTextLength">The characters of the rendered prompt that <see cref="AffinityKey"/> covers.</param>
    /// <returns>Null, or the error naming <c>messages</c>.</returns>
    public static RequestValidationError? TryChatMessages(JsonElement root, out PromptAnalysis prompt, int maxTextLength = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTextLength);
        prompt = default;
        if (!root.TryGetProperty("messages", out var messages))
        {
            return RequestValidationError.Invalid("'messages' is required.", "messages");
        }

        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return RequestValidationError.Invalid("'messages' must be a non-empty array.", "messages");
        }

        var text = new BoundedText(maxTextLength);
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                return RequestValidationError.Invalid("Each message must be an object with a string 'role'.", "messages");
            }

            text.AppendString(role).Append(": ");
            if (message.TryGetProperty("content", out var content))
            {
                if (!AppendContent(text, content))
                {
                    return RequestValidationError.Invalid("A message 'content' must be a string, null or an array of content parts.", "messages");
                }
            }

            text.Append('\n');
        }

        prompt = new PromptAnalysis(text.Key, Estimate(text.Length));
        return null;
    }

    private static bool AppendContent(BoundedText text, JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                text.AppendString(content);
                return true;
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.Array:
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object)
                    {
                        return false;
                    }

                    if (part.TryGetProperty("text", out var partText) && partText.ValueKind == JsonValueKind.String)
                    {
                        text.AppendString(partText);
                    }
                    else
                    {
                        // Images and audio: their raw JSON keeps different media from sharing a key.
                        text.Append(part.GetRawText());
                    }
                }

                return true;
            default:
                return false;
        }
    }

    private static int Estimate(long characters) => (int)Math.Min(int.MaxValue, (characters + CharactersPerToken - 1) / CharactersPerToken);

    /// <summary>
    /// The rendered prompt as it is appended: its whole length is counted, its first <c>limit</c>
    /// characters are hashed (nothing is hashed for a limit of 0), none is kept.
    /// </summary>
    private sealed class BoundedText(int limit)
    {
        // The largest string unescaped into a pooled buffer (64 K characters, 128 KB).
        private const int MaxPooledChars = 64 * 1024;

        private StableHash.Hasher _hasher;

        /// <summary>The length of the whole rendered prompt.</summary>
        public long Length { get; private set; }

        /// <summary>The hash of the first <c>limit</c> characters, or null when there were none.</summary>
        public ulong? Key => _hasher.IsEmpty ? null : _hasher.Finish();

        public BoundedText Append(string? value) => Append(value.AsSpan());

        public BoundedText Append(char value) => Append(new ReadOnlySpan<char>(in value));

        public BoundedText Append(ReadOnlySpan<char> value)
        {
            var room = limit - Math.Min(Length, limit);
            if (room > 0 && !value.IsEmpty)
            {
                _hasher.Append(value[..(int)Math.Min(room, value.Length)]);
            }

            Length += value.Length;
            return this;
        }

        /// <summary>
        /// The text of a JSON string, unescaped from the body's UTF-8 into a pooled buffer: no string is
        /// made of it (a prompt's string was the largest allocation of a request, bench/RESULTS.md 4.22).
        /// </summary>
        public BoundedText AppendString(JsonElement value)
        {
            var raw = JsonMarshal.GetRawUtf8Value(value);
            var reader = new Utf8JsonReader(raw);
            reader.Read();

            // Unescaped UTF-16 is never longer than the escaped UTF-8 it comes from. A prompt past
            // MaxPooledChars gets a buffer of its own, collected as its string was: the shared pool would
            // keep a multi-MB array alive for the next large prompt.
            var pooled = raw.Length <= MaxPooledChars;
            var buffer = pooled ? ArrayPool<char>.Shared.Rent(Math.Max(raw.Length, 1)) : new char[raw.Length];
            try
            {
                return Append(buffer.AsSpan(0, reader.CopyString(buffer)));
            }
            finally
            {
                if (pooled)
                {
                    ArrayPool<char>.Shared.Return(buffer);
                }
            }
        }

        /// <summary>
        /// A token id and its separator. Past the limit the id is not read as text at all: a prompt
        /// with token ids is estimated by counting them, so its rendered length is not needed.
        /// </summary>
        public void AppendNumber(JsonElement id)
        {
            if (Length < limit)
            {
                Append(id.GetRawText()).Append(' ');
            }
        }
    }
}
