using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Simulator.Generation;

namespace PdApp.Simulator.Api;

/// <summary>
/// Reads and validates a completion or chat body the way vLLM's pydantic models
/// (vllm/entrypoints/openai/protocol.py) do, with 400s that name the field at fault.
/// </summary>
internal sealed class CompletionRequestParser(PromptTokenizer tokenizer)
{
    /// <summary>Parses the body.</summary>
    /// <exception cref="RequestValidationException">The body is invalid.</exception>
    public CompletionRequest Parse(JsonNode? body, CompletionKind kind)
    {
        if (body is not JsonObject json)
        {
            throw new RequestValidationException("Input should be a valid dictionary or object to extract fields from");
        }

        var stream = Bool(json, "stream") ?? false;
        var streamOptions = json["stream_options"];
        var includeUsage = false;
        if (streamOptions is not null)
        {
            // vLLM: validate_stream_options.
            if (!stream)
            {
                throw new RequestValidationException("Stream options can only be defined when `stream=True`.", "stream_options");
            }

            if (streamOptions is not JsonObject options)
            {
                throw new RequestValidationException("Input should be a valid dictionary", "stream_options");
            }

            includeUsage = Bool(options, "include_usage", "stream_options.include_usage") ?? false;
        }

        var n = Int(json, "n");
        if (n is not null && n != 1)
        {
            throw new RequestValidationException($"The simulator serves n = 1 only; got n = {n}.", "n");
        }

        var maxTokens = Int(json, "max_tokens");
        var maxCompletionTokens = kind == CompletionKind.Chat ? Int(json, "max_completion_tokens") : null;
        var effectiveMax = maxCompletionTokens ?? maxTokens;
        if (effectiveMax is < 1)
        {
            var name = maxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
            throw new RequestValidationException($"{name} must be at least 1, got {effectiveMax}.", name);
        }

        var temperature = Number(json, "temperature");
        if (temperature is < 0)
        {
            throw new RequestValidationException($"temperature must be non-negative, got {temperature}.", "temperature");
        }

        var topP = Number(json, "top_p");
        if (topP is <= 0 or > 1)
        {
            throw new RequestValidationException($"top_p must be in (0, 1], got {topP}.", "top_p");
        }

        var kvParams = json["kv_transfer_params"];
        if (kvParams is not null and not JsonObject)
        {
            throw new RequestValidationException("Input should be a valid dictionary", "kv_transfer_params");
        }

        var (promptText, promptTokenIds) = kind == CompletionKind.Chat ? ChatPrompt(json) : TextPrompt(json);
        return new CompletionRequest
        {
            Kind = kind,
            Model = String(json, "model"),
            PromptText = promptText,
            PromptTokenIds = promptTokenIds,
            MaxTokens = effectiveMax,
            Stop = Stop(json),
            Seed = Long(json, "seed"),
            Stream = stream,
            IncludeUsage = includeUsage,
            KvTransferParams = kvParams as JsonObject,
        };
    }

    private (string Text, int[] Ids) TextPrompt(JsonObject json)
    {
        var prompt = json["prompt"] ?? throw new RequestValidationException("Field required", "prompt");
        switch (prompt)
        {
            case JsonValue value when value.TryGetValue<string>(out var text):
                return (text, tokenizer.Encode(text));
            case JsonArray array when array.Count == 0:
                throw new RequestValidationException("Prompt cannot be empty", "prompt");
            case JsonArray array when array.All(item => item is JsonValue v && v.GetValueKind() == JsonValueKind.Number):
                return FromIds(TokenIds(array));
            case JsonArray array when array.Count == 1 && array[0] is JsonValue single && single.TryGetValue<string>(out var text):
                return (text, tokenizer.Encode(text));
            case JsonArray array when array.Count == 1 && array[0] is JsonArray ids:
                return FromIds(TokenIds(ids));
            case JsonArray:
                throw new RequestValidationException("The simulator serves one prompt per request; batch prompts are not supported.", "prompt");
            default:
                throw new RequestValidationException("Input should be a valid string or list", "prompt");
        }
    }

    private (string Text, int[] Ids) FromIds(int[] ids) => (tokenizer.Decode(ids), ids);

    private static int[] TokenIds(JsonArray ids)
    {
        var result = new int[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] is not JsonValue value || !value.TryGetValue<int>(out var id) || id < 0)
            {
                throw new RequestValidationException("Token ids must be non-negative integers", "prompt");
            }

            result[i] = id;
        }

        return result;
    }

    private (string Text, int[] Ids) ChatPrompt(JsonObject json)
    {
        // vLLM: ChatCompletionRequest.check_generation_prompt; continue_final_message renders the last
        // message open-ended, so the model continues it (an assistant prefix).
        var continueFinal = Bool(json, "continue_final_message") ?? false;
        var addGenerationPrompt = Bool(json, "add_generation_prompt") ?? true;
        if (continueFinal && addGenerationPrompt)
        {
            throw new RequestValidationException("Cannot set both `continue_final_message` and `add_generation_prompt` to True.", "continue_final_message");
        }

        if (json["messages"] is not JsonArray messages)
        {
            throw new RequestValidationException(json.ContainsKey("messages") ? "Input should be a valid list" : "Field required", "messages");
        }

        var rendered = new List<ChatMessage>(messages.Count);
        foreach (var node in messages)
        {
            if (node is not JsonObject message || String(message, "role", "messages.role") is not { } role)
            {
                throw new RequestValidationException("Each message needs a string role", "messages");
            }

            rendered.Add(new ChatMessage(role, MessageContent(message["content"])));
        }

        if (continueFinal && rendered.Count == 0)
        {
            throw new RequestValidationException("continue_final_message needs a final message to continue.", "messages");
        }

        var text = ChatTemplate.Render(rendered, addGenerationPrompt, continueFinal);
        return (text, tokenizer.Encode(text));
    }

    private static string MessageContent(JsonNode? content)
    {
        switch (content)
        {
            case null:
                return string.Empty;
            case JsonValue value when value.TryGetValue<string>(out var text):
                return text;
            case JsonArray parts:
                var builder = new StringBuilder();
                foreach (var part in parts)
                {
                    if (part is not JsonObject partObject || String(partObject, "type", "messages.content.type") != "text")
                    {
                        throw new RequestValidationException("The simulator supports content parts of type 'text' only.", "messages");
                    }

                    if (builder.Length > 0)
                    {
                        builder.Append('\n');
                    }

                    builder.Append(String(partObject, "text", "messages.content.text"));
                }

                return builder.ToString();
            default:
                throw new RequestValidationException("Message content should be a string or a list of content parts", "messages");
        }
    }

    private static IReadOnlyList<string> Stop(JsonObject json)
    {
        switch (json["stop"])
        {
            case null:
                return [];
            case JsonValue value when value.TryGetValue<string>(out var single):
                return single.Length == 0 ? [] : [single];
            case JsonArray array:
                var stops = new List<string>(array.Count);
                foreach (var item in array)
                {
                    if (item is not JsonValue v || !v.TryGetValue<string>(out var stop))
                    {
                        throw new RequestValidationException("Input should be a valid string", "stop");
                    }

                    if (stop.Length > 0)
                    {
                        stops.Add(stop);
                    }
                }

                return stops;
            default:
                throw new RequestValidationException("Input should be a valid string or list of strings", "stop");
        }
    }

    private static string? String(JsonObject json, string name, string? param = null) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new RequestValidationException("Input should be a valid string", param ?? name),
    };

    private static bool? Bool(JsonObject json, string name, string? param = null) => json[name] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False => value.GetValue<bool>(),
        _ => throw new RequestValidationException("Input should be a valid boolean", param ?? name),
    };

    private static int? Int(JsonObject json, string name) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<int>(out var number) => number,
        JsonValue value when value.TryGetValue<double>(out var real) && real == Math.Floor(real) && real is >= int.MinValue and <= int.MaxValue => (int)real,
        _ => throw new RequestValidationException("Input should be a valid integer", name),
    };

    private static long? Long(JsonObject json, string name) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<long>(out var number) => number,
        _ => throw new RequestValidationException("Input should be a valid integer", name),
    };

    private static double? Number(JsonObject json, string name) => json[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<double>(out var number) => number,
        _ => throw new RequestValidationException("Input should be a valid number", name),
    };
}
