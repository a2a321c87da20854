using System.Text.Json;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>What one streamed completion or chat chunk says, as far as a migration needs it.</summary>
/// <param name="Id">The stream's <c>id</c>.</param>
/// <param name="Created">Its <c>created</c>.</param>
/// <param name="Text">The first choice's text (<c>text</c> or <c>delta.content</c>), or null.</param>
/// <param name="IsRole">Whether the chunk announces the chat role (<c>delta.role</c>).</param>
/// <param name="Finished">Whether the first choice carries a <c>finish_reason</c>.</param>
/// <param name="HasChoice">Whether the chunk has a choice (usage-only chunks have none).</param>
/// <param name="HasUsage">Whether the chunk carries <c>usage</c>.</param>
public readonly record struct ChunkFacts(string? Id, long? Created, string? Text, bool IsRole, bool Finished, bool HasChoice, bool HasUsage)
{
    /// <summary>Reads the facts of <paramref name="root"/>.</summary>
    /// <param name="root">A chunk object.</param>
    /// <param name="withIdentity">Whether to read <c>id</c> and <c>created</c> (once per stream is enough: every chunk repeats them).</param>
    /// <returns>The facts.</returns>
    public static ChunkFacts Read(JsonElement root, bool withIdentity = true)
    {
        var id = withIdentity && root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
        long? created = withIdentity && root.TryGetProperty("created", out var createdElement) && createdElement.TryGetInt64(out var seconds) ? seconds : null;
        var hasUsage = root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object;
        string? text = null;
        var isRole = false;
        var finished = false;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            if (choice.TryGetProperty("text", out var textElement) && textElement.ValueKind == JsonValueKind.String)
            {
                text = textElement.GetString();
            }
            else if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
            {
                isRole = delta.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String;
                text = delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : string.Empty;
            }

            finished = choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String;
        }
        else
        {
            return new ChunkFacts(id, created, null, IsRole: false, Finished: false, HasChoice: false, hasUsage);
        }

        return new ChunkFacts(id, created, text, isRole, finished, HasChoice: true, hasUsage);
    }
}
