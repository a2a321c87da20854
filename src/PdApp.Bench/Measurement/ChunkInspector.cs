using System.Text.Json;

namespace PdApp.Bench.Measurement;

/// <summary>
/// Reads the few fields the bench needs from an OpenAI completion chunk or response with a
/// forward-only <see cref="Utf8JsonReader"/>, allocating nothing unless the chunk is an error.
/// </summary>
/// <remarks>
/// A chunk counts as a token when a choice carries output (<c>text</c>, <c>delta.content</c>,
/// <c>delta.reasoning_content</c>/<c>reasoning</c> or <c>tool_calls</c>). vLLM's
/// benchmarks/backend_request_func.py stamps TTFT at the first chunk with non-empty
/// <c>choices</c>; we additionally skip role-only and finish-only chunks so a server that sends
/// the assistant role before its first token does not shorten TTFT.
/// </remarks>
internal static class ChunkInspector
{
    /// <summary>Inspects one JSON document.</summary>
    /// <exception cref="JsonException">The payload is not valid JSON.</exception>
    public static ChunkInfo Inspect(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("The chunk is not a JSON object.");
        }

        var hasOutput = false;
        var isError = false;
        int? promptTokens = null;
        int? completionTokens = null;
        string? errorMessage = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                hasOutput |= ReadChoices(ref reader);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                ReadUsage(ref reader, ref promptTokens, ref completionTokens);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                isError = reader.TokenType != JsonTokenType.Null;
                errorMessage = isError ? ReadErrorMessage(ref reader) : null;
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("error"u8))
                {
                    isError = true;
                }
            }
            else if (reader.ValueTextEquals("message"u8) && isError)
            {
                // Flat error form of older vLLM: {"object":"error","message":...}.
                reader.Read();
                errorMessage = reader.TokenType == JsonTokenType.String ? reader.GetString() : errorMessage;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new ChunkInfo(hasOutput, isError, promptTokens, completionTokens, errorMessage);
    }

    private static bool ReadChoices(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        var hasOutput = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    hasOutput |= IsNonEmptyString(ref reader);
                }
                else if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    hasOutput |= ReadMessage(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        return hasOutput;
    }

    private static bool ReadMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        var hasOutput = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8)
                || reader.ValueTextEquals("reasoning_content"u8)
                || reader.ValueTextEquals("reasoning"u8))
            {
                reader.Read();
                hasOutput |= IsNonEmptyString(ref reader);
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    var start = reader.TokenStartIndex;
                    reader.Skip();
                    // "[]" spans two bytes; anything longer holds at least one call.
                    hasOutput |= reader.TokenStartIndex - start > 1;
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

        return hasOutput;
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref int? promptTokens, ref int? completionTokens)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                reader.Read();
                promptTokens = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : promptTokens;
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                reader.Read();
                completionTokens = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : completionTokens;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static string ReadErrorMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString() ?? "error";
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return "error";
        }

        var message = "error";
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                message = reader.TokenType == JsonTokenType.String ? reader.GetString() ?? message : message;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return message;
    }

    private static bool IsNonEmptyString(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String && (reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > 0;
}
