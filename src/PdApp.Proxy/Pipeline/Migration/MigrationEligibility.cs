using System.Text.Json;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// Decides once per request whether a continuation could be exact; where it could not, migration
/// is refused up front and a failed decode ends as it would without migration.
/// </summary>
public static class MigrationEligibility
{
    private static readonly string[] GuidedFields =
        ["guided_json", "guided_regex", "guided_choice", "guided_grammar", "structured_outputs", "guided_decoding_backend"];

    /// <summary>
    /// Whether a request could move at all: a failed decode instance is never chosen again for its
    /// request, so moving needs a second decode instance (healthy or not: it may be back by then).
    /// </summary>
    /// <param name="registry">The known instances.</param>
    /// <returns>True with two or more decode instances.</returns>
    public static bool HasSomewhereToMove(IInstanceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return registry.GetInstances(PdRole.Decode).Count >= 2;
    }

    /// <summary>Why <paramref name="request"/> cannot be migrated, or null when it can.</summary>
    /// <param name="request">The client's request.</param>
    /// <returns>A <see cref="MigrationReasons"/> value, or null.</returns>
    public static string? RefusalFor(CompletionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var root = request.Document.RootElement;
        if (Above1(root, "n") || Above1(root, "best_of"))
        {
            return MigrationReasons.MultipleChoices;
        }

        // Chat logprobs stay consistent (each token's logprob depends only on the text before it);
        // completions logprobs carry text offsets that would restart at the continuation's start.
        if ((request.Route == OpenAiRoute.Completions && IsSet(root, "logprobs"))
            || IsSet(root, "prompt_logprobs")
            || IsTrue(root, "echo"))
        {
            return MigrationReasons.Logprobs;
        }

        foreach (var field in GuidedFields)
        {
            if (IsSet(root, field))
            {
                return MigrationReasons.GuidedDecoding;
            }
        }

        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "text")
        {
            return MigrationReasons.GuidedDecoding;
        }

        return request.Route == OpenAiRoute.Completions ? CompletionPromptRefusal(root) : ChatRefusal(root);
    }

    /// <summary>
    /// Why a non-streaming <paramref name="request"/> is too large to move, or null: its token limit
    /// (the smaller of <c>max_tokens</c> and <c>max_completion_tokens</c>; none means the model's
    /// context) exceeds <paramref name="maxNonStreamingTokens"/>. A non-streaming move reruns the
    /// whole generation (nothing was relayed to continue from). Streaming requests are never refused here.
    /// </summary>
    /// <param name="request">The client's request.</param>
    /// <param name="maxNonStreamingTokens"><c>Pd:Proxy:Migration:MaxNonStreamingTokens</c>; 0 lifts the limit.</param>
    /// <returns><see cref="MigrationReasons.NonStreamingSize"/>, or null.</returns>
    public static string? SizeRefusalFor(CompletionRequest request, int maxNonStreamingTokens)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Stream || maxNonStreamingTokens <= 0)
        {
            return null;
        }

        int? limit = null;
        var root = request.Document.RootElement;
        foreach (var name in (ReadOnlySpan<string>)["max_tokens", "max_completion_tokens"])
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var tokens))
            {
                limit = Math.Min(limit ?? int.MaxValue, tokens);
            }
        }

        return limit <= maxNonStreamingTokens ? null : MigrationReasons.NonStreamingSize;
    }

    /// <summary>Whether the request's sampling is reproducible (greedy, or seeded): only then does a continuation equal an unfaulted run.</summary>
    /// <param name="request">The client's request.</param>
    /// <returns>True when greedy or seeded.</returns>
    public static bool IsReproducible(CompletionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var root = request.Document.RootElement;
        return IsSet(root, "seed")
            || (root.TryGetProperty("temperature", out var temperature) && temperature.ValueKind == JsonValueKind.Number && temperature.GetDouble() == 0);
    }

    private static string? CompletionPromptRefusal(JsonElement root)
    {
        var prompt = root.GetProperty("prompt");
        return prompt.ValueKind switch
        {
            JsonValueKind.String => null,
            JsonValueKind.Array when prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String => null,
            _ => MigrationReasons.PromptShape,
        };
    }

    private static string? ChatRefusal(JsonElement root)
    {
        // A client's own assistant prefix is continued by appending to it, which needs string content.
        if (IsTrue(root, "continue_final_message"))
        {
            var messages = root.GetProperty("messages");
            var last = messages[messages.GetArrayLength() - 1];
            if (!last.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
            {
                return MigrationReasons.PromptShape;
            }
        }

        return null;
    }

    private static bool Above1(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 1;

    private static bool IsSet(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.False);

    private static bool IsTrue(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}
