using System.Buffers;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Proxy.Buffers;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// Makes a continuation's events part of the client's original stream: the original <c>id</c> and
/// <c>created</c>, no second chat role delta, and a usage that counts the whole request: the
/// original prompt, and the tokens relayed before the move plus the continuation's own. Every event
/// of a migrated stream passes here, so it is rewritten in one forward pass over its UTF-8 JSON:
/// untouched values are copied as raw bytes, only the fields above are written anew.
/// </summary>
/// <param name="tokensBefore">Tokens relayed before this continuation started.</param>
/// <param name="originalPromptTokens">The original prompt's token count (from P's usage), or null to derive it from the continuation's.</param>
public sealed class ContinuationEventRewriter(int tokensBefore, int? originalPromptTokens)
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>The event to relay for <paramref name="json"/>, or null to drop it.</summary>
    /// <param name="json">The continuation's chunk (the event's payload).</param>
    /// <param name="chunk">Its facts.</param>
    /// <param name="progress">The client's stream so far.</param>
    /// <returns>The SSE event bytes, or null.</returns>
    /// <exception cref="JsonException">The payload is not valid JSON.</exception>
    public byte[]? Rewrite(ReadOnlySpan<byte> json, ChunkFacts chunk, StreamProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var dropRole = chunk.IsRole && progress.RoleSent;
        if (dropRole && !chunk.Finished && !chunk.HasUsage && !chunk.HasText && FirstDeltaHasOnlyRoleAndContent(json))
        {
            // The continuation's own role announcement carries nothing the client has not seen.
            return null;
        }

        using var buffer = new PooledByteBuffer(json.Length + 64);
        buffer.Write(SseFormat.DataPrefix.Span);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            var reader = new Utf8JsonReader(json);
            reader.Read();
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8) && progress.Id is { } id)
                {
                    reader.Read();
                    reader.Skip();
                    writer.WriteString("id"u8, id);
                }
                else if (reader.ValueTextEquals("created"u8) && progress.Created is { } created)
                {
                    reader.Read();
                    reader.Skip();
                    writer.WriteNumber("created"u8, created);
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    writer.WritePropertyName("usage"u8);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        WriteUsage(ref reader, json, writer);
                    }
                    else
                    {
                        CopyValue(ref reader, json, writer);
                    }
                }
                else if (dropRole && reader.ValueTextEquals("choices"u8))
                {
                    writer.WritePropertyName("choices"u8);
                    reader.Read();
                    WriteChoicesWithoutRole(ref reader, json, writer);
                }
                else
                {
                    CopyProperty(ref reader, json, writer);
                }
            }

            writer.WriteEndObject();
        }

        buffer.Write(SseFormat.EventTerminator.Span);
        return buffer.WrittenSpan.ToArray();
    }

    // The whole request's usage: the original prompt, and the tokens before the move plus the continuation's.
    private void WriteUsage(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Utf8JsonWriter writer)
    {
        var usageReader = reader;
        int continuationPrompt = 0, continuationCompletion = 0;
        usageReader.Read();
        while (usageReader.TokenType == JsonTokenType.PropertyName)
        {
            var isPrompt = usageReader.ValueTextEquals("prompt_tokens"u8);
            var isCompletion = usageReader.ValueTextEquals("completion_tokens"u8);
            usageReader.Read();
            if (usageReader.TokenType == JsonTokenType.Number && usageReader.TryGetInt32(out var value))
            {
                continuationPrompt = isPrompt ? value : continuationPrompt;
                continuationCompletion = isCompletion ? value : continuationCompletion;
            }

            usageReader.Skip();
            usageReader.Read();
        }

        var prompt = originalPromptTokens ?? Math.Max(0, continuationPrompt - tokensBefore);
        var completion = tokensBefore + continuationCompletion;
        // The counts are written where D put them (clients and tests may compare the text), added when absent.
        bool wrotePrompt = false, wroteCompletion = false, wroteTotal = false;
        writer.WriteStartObject();
        reader.Read();
        while (reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                SkipValue(ref reader);
                writer.WriteNumber("prompt_tokens"u8, prompt);
                wrotePrompt = true;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                SkipValue(ref reader);
                writer.WriteNumber("completion_tokens"u8, completion);
                wroteCompletion = true;
            }
            else if (reader.ValueTextEquals("total_tokens"u8))
            {
                SkipValue(ref reader);
                writer.WriteNumber("total_tokens"u8, prompt + completion);
                wroteTotal = true;
            }
            else
            {
                CopyProperty(ref reader, json, writer);
            }

            reader.Read();
        }

        if (!wrotePrompt)
        {
            writer.WriteNumber("prompt_tokens"u8, prompt);
        }

        if (!wroteCompletion)
        {
            writer.WriteNumber("completion_tokens"u8, completion);
        }

        if (!wroteTotal)
        {
            writer.WriteNumber("total_tokens"u8, prompt + completion);
        }

        writer.WriteEndObject();
    }

    // choices with the first choice's delta.role left out; everything else as it came.
    private static void WriteChoicesWithoutRole(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Utf8JsonWriter writer)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            CopyValue(ref reader, json, writer);
            return;
        }

        writer.WriteStartArray();
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first || reader.TokenType != JsonTokenType.StartObject)
            {
                CopyValue(ref reader, json, writer);
                continue;
            }

            first = false;
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("delta"u8))
                {
                    CopyProperty(ref reader, json, writer);
                    continue;
                }

                writer.WritePropertyName("delta"u8);
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    CopyValue(ref reader, json, writer);
                    continue;
                }

                writer.WriteStartObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("role"u8))
                    {
                        reader.Read();
                        reader.Skip();
                    }
                    else
                    {
                        CopyProperty(ref reader, json, writer);
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    // Whether the first choice's delta holds nothing but role and (empty) content.
    private static bool FirstDeltaHasOnlyRoleAndContent(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isDelta = reader.ValueTextEquals("delta"u8);
                reader.Read();
                if (!isDelta || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                var others = 0;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    others += reader.ValueTextEquals("role"u8) ? 0 : 1;
                    reader.Read();
                    reader.Skip();
                }

                return others <= 1;
            }

            return false;
        }

        return false;
    }

    // The reader stands on a property name: moves past its value.
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    // The reader stands on a property name: writes the name and its value unchanged.
    private static void CopyProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Utf8JsonWriter writer)
    {
        if (reader.ValueIsEscaped)
        {
            writer.WritePropertyName(reader.GetString()!);
        }
        else
        {
            writer.WritePropertyName(reader.ValueSpan);
        }

        reader.Read();
        CopyValue(ref reader, json, writer);
    }

    // The reader stands on a value's first token: writes its raw bytes and leaves the reader on its last token.
    private static void CopyValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Utf8JsonWriter writer)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        var end = (int)reader.BytesConsumed;
        writer.WriteRawValue(json[start..end], skipInputValidation: true);
    }
}
