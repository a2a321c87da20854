using System.Text.Json;
using PdApp.Simulator.Engine;

namespace PdApp.Simulator.Api;

/// <summary>
/// The JSON shapes vLLM returns for completions and chat completions, whole and as stream chunks
/// (vllm/entrypoints/openai/protocol.py: CompletionResponse, CompletionStreamResponse,
/// ChatCompletionResponse, ChatCompletionStreamResponse). Written with <see cref="Utf8JsonWriter"/>
/// straight into the response pipe.
/// </summary>
internal sealed class CompletionResponseFormat(CompletionKind kind, string id, string model, long created)
{
    private string Object => kind == CompletionKind.Chat ? "chat.completion" : "text_completion";

    private string ChunkObject => kind == CompletionKind.Chat ? "chat.completion.chunk" : "text_completion";

    /// <summary>Writes one stream chunk with one choice.</summary>
    public void WriteChunk(Utf8JsonWriter writer, string delta, bool withRole, string? finishReason, string? stopReason)
    {
        writer.WriteStartObject();
        WriteHeader(writer, ChunkObject);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        if (kind == CompletionKind.Chat)
        {
            writer.WriteStartObject("delta");
            if (withRole)
            {
                writer.WriteString("role", "assistant");
            }

            writer.WriteString("content", delta);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteString("text", delta);
        }

        writer.WriteNull("logprobs");
        WriteNullableString(writer, "finish_reason", finishReason);
        WriteNullableString(writer, "stop_reason", stopReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes the final usage chunk of <c>stream_options.include_usage</c>: empty choices, usage.</summary>
    public void WriteUsageChunk(Utf8JsonWriter writer, int promptTokens, int completionTokens)
    {
        writer.WriteStartObject();
        WriteHeader(writer, ChunkObject);
        writer.WriteStartArray("choices");
        writer.WriteEndArray();
        WriteUsage(writer, promptTokens, completionTokens);
        writer.WriteEndObject();
    }

    /// <summary>Writes the whole (non-streaming) response.</summary>
    public void WriteResponse(Utf8JsonWriter writer, CompletionResult result, string text)
    {
        writer.WriteStartObject();
        WriteHeader(writer, Object);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        if (kind == CompletionKind.Chat)
        {
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            writer.WriteNull("reasoning_content");
            writer.WriteString("content", text);
            writer.WriteStartArray("tool_calls");
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteString("text", text);
        }

        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", result.FinishReason);
        WriteNullableString(writer, "stop_reason", result.StopReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
        WriteUsage(writer, result.PromptTokens, result.CompletionTokens);
        if (result.KvTransferParams is { } kvParams)
        {
            writer.WritePropertyName("kv_transfer_params");
            kvParams.WriteTo(writer);
        }
        else
        {
            writer.WriteNull("kv_transfer_params");
        }

        writer.WriteEndObject();
    }

    private void WriteHeader(Utf8JsonWriter writer, string objectName)
    {
        writer.WriteString("id", id);
        writer.WriteString("object", objectName);
        writer.WriteNumber("created", created);
        writer.WriteString("model", model);
    }

    private static void WriteUsage(Utf8JsonWriter writer, int promptTokens, int completionTokens)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", promptTokens);
        writer.WriteNumber("total_tokens", promptTokens + completionTokens);
        writer.WriteNumber("completion_tokens", completionTokens);
        writer.WriteNull("prompt_tokens_details");
        writer.WriteEndObject();
    }

    private static void WriteNullableString(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
