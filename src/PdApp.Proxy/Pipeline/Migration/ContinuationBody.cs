using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// The body that continues a request after <see cref="StreamProgress.Text"/> was relayed. Completions:
/// the prompt with the text appended. Chat: the text as a final assistant message continued with
/// <c>continue_final_message: true, add_generation_prompt: false</c>, as vLLM supports
/// (appended to the client's own final message when it already continued one). Token limits
/// (<c>max_tokens</c>, <c>max_completion_tokens</c>, <c>min_tokens</c>) shrink by the tokens relayed;
/// everything else (seed, sampling, stop strings, stream options) is the client's.
/// </summary>
public static class ContinuationBody
{
    /// <summary>Builds the continuation of <paramref name="request"/>.</summary>
    /// <param name="request">The client's request (eligible for migration).</param>
    /// <param name="progress">What was relayed.</param>
    /// <returns>The body.</returns>
    public static byte[] Create(CompletionRequest request, StreamProgress progress)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(progress);
        if (progress.Tokens == 0 && !progress.HasText)
        {
            // Nothing was relayed: the request itself, as the client sent it.
            return request.Body.ToArray();
        }

        var body = JsonNode.Parse(request.Body.Span) as JsonObject
            ?? throw new InvalidOperationException("A validated request body is a JSON object.");
        var text = progress.Text;
        if (request.Route == OpenAiRoute.Completions)
        {
            body["prompt"] = body["prompt"] switch
            {
                JsonArray prompts => new JsonArray((string?)prompts[0] + text),
                var prompt => (string?)prompt + text,
            };
        }
        else
        {
            var messages = (JsonArray)body["messages"]!;
            if (body["continue_final_message"] is JsonValue continuing && continuing.GetValueKind() == JsonValueKind.True)
            {
                var last = (JsonObject)messages[^1]!;
                last["content"] = (string?)last["content"] + text;
            }
            else
            {
                messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = text });
            }

            body["continue_final_message"] = true;
            body["add_generation_prompt"] = false;
        }

        foreach (var name in (ReadOnlySpan<string>)["max_tokens", "max_completion_tokens"])
        {
            if (body[name] is JsonValue limit && limit.TryGetValue<int>(out var value))
            {
                body[name] = Math.Max(1, value - progress.Tokens);
            }
        }

        if (body["min_tokens"] is JsonValue min && min.TryGetValue<int>(out var minimum))
        {
            body["min_tokens"] = Math.Max(0, minimum - progress.Tokens);
        }

        return Write(body);
    }

    // JsonNode.WriteTo with a plain writer: JsonSerializer.SerializeToUtf8Bytes(node) would go through the
    // reflection-based default resolver, whose first use (a process's first migration, when a decode
    // dies under load) builds every default converter and emits IL, ~100 ms on a loaded 2-core machine,
    // while the other failed streams' reads wait for the thread pool (RESULTS.md 5.5).
    private static byte[] Write(JsonObject body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            body.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
