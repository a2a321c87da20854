using System.Buffers;
using System.Text.Json;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>What one streamed completion or chat chunk says, as far as a migration needs it.</summary>
/// <param name="Id">The stream's <c>id</c> (read only when asked: every chunk repeats it).</param>
/// <param name="Created">Its <c>created</c> (likewise).</param>
/// <param name="HasText">Whether the first choice's text (<c>text</c> or <c>delta.content</c>) is non-empty.</param>
/// <param name="IsRole">Whether the chunk announces the chat role (<c>delta.role</c>).</param>
/// <param name="Finished">Whether the first choice carries a <c>finish_reason</c>.</param>
/// <param name="HasChoice">Whether the chunk has a choice (usage-only chunks have none).</param>
/// <param name="HasUsage">Whether the chunk carries <c>usage</c>.</param>
/// <param name="IsError">Whether the chunk is an in-band error (a top-level <c>error</c>); nothing else is read then.</param>
public readonly record struct ChunkFacts(string? Id, long? Created, bool HasText, bool IsRole, bool Finished, bool HasChoice, bool HasUsage, bool IsError)
{
    /// <summary>
    /// The <c>usage.completion_tokens</c> of a final usage chunk (<c>stream_options.include_usage</c>:
    /// an empty <c>choices</c> array and a numeric count), or null for any other chunk.
    /// </summary>
    public int? FinalUsageTokens { get; init; }

    /// <summary>
    /// Reads the facts of one chunk with a forward-only scan of its UTF-8 JSON: no document is
    /// built and no string is made for the text, which is unescaped into <paramref name="text"/>.
    /// This runs for every event of every stream that may migrate, so it must cost little more
    /// than relaying the bytes.
    /// </summary>
    /// <param name="json">The event's payload (after <c>data: </c>).</param>
    /// <param name="text">Receives the first choice's text, unescaped UTF-8 (appended).</param>
    /// <param name="withIdentity">Whether to read <c>id</c> and <c>created</c>.</param>
    /// <returns>The facts, or null when the payload is not a JSON object.</returns>
    /// <exception cref="JsonException">The payload is not valid JSON.</exception>
    public static ChunkFacts? Read(ReadOnlySpan<byte> json, IBufferWriter<byte> text, bool withIdentity = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        string? id = null;
        long? created = null;
        bool hasText = false, isRole = false, finished = false, hasChoice = false, hasUsage = false, noChoices = false;
        int? usageTokens = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    hasChoice = true;
                    ReadChoice(ref reader, text, ref hasText, ref isRole, ref finished);
                    SkipToEndOfArray(ref reader);
                }
                else
                {
                    noChoices = reader.TokenType == JsonTokenType.EndArray;
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                return new ChunkFacts(null, null, false, false, false, false, false, IsError: true);
            }
            else if (withIdentity && reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (withIdentity && reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                created = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seconds) ? seconds : null;
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                hasUsage = reader.TokenType == JsonTokenType.StartObject;
                if (hasUsage)
                {
                    usageTokens = ReadCompletionTokens(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ChunkFacts(id, created, hasText, isRole, finished, hasChoice, hasUsage, IsError: false)
        {
            FinalUsageTokens = noChoices ? usageTokens : null,
        };
    }

    // The reader stands on the usage object's StartObject; leaves it on its EndObject.
    private static int? ReadCompletionTokens(ref Utf8JsonReader reader)
    {
        int? tokens = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isCount = reader.ValueTextEquals("completion_tokens"u8);
            reader.Read();
            if (isCount && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var count))
            {
                tokens = count;
            }
            else
            {
                reader.Skip();
            }
        }

        return tokens;
    }

    // The reader stands on the first choice's StartObject; leaves it on that object's EndObject.
    private static void ReadChoice(ref Utf8JsonReader reader, IBufferWriter<byte> text, ref bool hasText, ref bool isRole, ref bool finished)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                hasText |= CopyString(ref reader, text);
            }
            else if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("role"u8))
                    {
                        reader.Read();
                        isRole |= reader.TokenType == JsonTokenType.String;
                    }
                    else if (reader.ValueTextEquals("content"u8))
                    {
                        reader.Read();
                        hasText |= CopyString(ref reader, text);
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                finished |= reader.TokenType == JsonTokenType.String;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    // Appends the string the reader stands on, unescaped, to text; false when it is not a string or empty.
    private static bool CopyString(ref Utf8JsonReader reader, IBufferWriter<byte> text)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            text.Write(reader.ValueSpan);
            return !reader.ValueSpan.IsEmpty;
        }

        // Unescaped UTF-8 is never longer than its escaped form.
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var written = reader.CopyString(text.GetSpan(length));
        text.Advance(written);
        return written > 0;
    }

    private static void SkipToEndOfArray(ref Utf8JsonReader reader)
    {
        // On the first choice's EndObject: skip any further choices up to the array's end.
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            reader.Skip();
        }
    }
}
