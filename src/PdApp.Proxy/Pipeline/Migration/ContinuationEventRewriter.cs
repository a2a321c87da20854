using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// Makes a continuation's events part of the client's original stream: the original <c>id</c> and
/// <c>created</c>, no second chat role delta, and a usage that counts the whole request: the
/// original prompt, and the tokens relayed before the move plus the continuation's own.
/// </summary>
/// <param name="tokensBefore">Tokens relayed before this continuation started.</param>
/// <param name="originalPromptTokens">The original prompt's token count (from P's usage), or null to derive it from the continuation's.</param>
public sealed class ContinuationEventRewriter(int tokensBefore, int? originalPromptTokens)
{
    /// <summary>The event to relay for <paramref name="json"/>, or null to drop it.</summary>
    /// <param name="json">The continuation's chunk (the event's payload).</param>
    /// <param name="chunk">Its facts.</param>
    /// <param name="progress">The client's stream so far.</param>
    /// <returns>The SSE event bytes, or null.</returns>
    public byte[]? Rewrite(ReadOnlySpan<byte> json, ChunkFacts chunk, StreamProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (JsonNode.Parse(json) is not JsonObject node)
        {
            return null;
        }

        if (chunk.IsRole && progress.RoleSent
            && node["choices"] is JsonArray { Count: > 0 } choices
            && choices[0]?["delta"] is JsonObject delta)
        {
            delta.Remove("role");
            if (!chunk.Finished && !chunk.HasUsage && !chunk.HasText && delta.Count <= 1)
            {
                return null;
            }
        }

        if (progress.Id is { } id)
        {
            node["id"] = id;
        }

        if (progress.Created is { } created)
        {
            node["created"] = created;
        }

        if (node["usage"] is JsonObject usage)
        {
            var continuationPrompt = (int?)usage["prompt_tokens"] ?? 0;
            var prompt = originalPromptTokens ?? Math.Max(0, continuationPrompt - tokensBefore);
            var completion = tokensBefore + ((int?)usage["completion_tokens"] ?? 0);
            usage["prompt_tokens"] = prompt;
            usage["completion_tokens"] = completion;
            usage["total_tokens"] = prompt + completion;
        }

        using var buffer = new MemoryStream();
        buffer.Write(SseFormat.DataPrefix.Span);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            node.WriteTo(writer);
        }

        buffer.Write(SseFormat.EventTerminator.Span);
        return buffer.ToArray();
    }
}
