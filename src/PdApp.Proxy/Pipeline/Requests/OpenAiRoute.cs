namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>The OpenAI generation routes the proxy disaggregates.</summary>
public enum OpenAiRoute
{
    /// <summary><c>POST /v1/completions</c> (prompt).</summary>
    Completions,

    /// <summary><c>POST /v1/chat/completions</c> (messages).</summary>
    ChatCompletions,
}

/// <summary>Paths and metric names of <see cref="OpenAiRoute"/>.</summary>
public static class OpenAiRoutes
{
    /// <summary>Path of the completions route.</summary>
    public const string CompletionsPath = "/v1/completions";

    /// <summary>Path of the chat completions route.</summary>
    public const string ChatCompletionsPath = "/v1/chat/completions";

    /// <summary>Path of the models route.</summary>
    public const string ModelsPath = "/v1/models";

    /// <summary>The upstream (and client-facing) path of <paramref name="route"/>.</summary>
    /// <param name="route">The route.</param>
    /// <returns>Its path.</returns>
    public static string PathOf(OpenAiRoute route) =>
        route == OpenAiRoute.Completions ? CompletionsPath : ChatCompletionsPath;
}
