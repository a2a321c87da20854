namespace PdApp.Tests.Proxy.Infrastructure;

/// <summary>Request bodies used across the proxy tests.</summary>
public static class Bodies
{
    /// <summary>The seed's curl body, verbatim but for the prompt.</summary>
    public const string SeedCurl =
        """{"model": "/data/dp7b/", "prompt": "San Francisco is a", "temperature": 0.7, "max_tokens": 500}""";

    /// <summary>The seed's own curl request, verbatim: a Chinese prompt and 500 tokens.</summary>
    public const string SeedChineseCurl =
        """{"model": "/data/dp7b/", "prompt": "介绍一下量子计算的基本原理", "max_tokens": 500, "temperature": 0.7}""";

    /// <summary>A completions body.</summary>
    /// <param name="maxTokens">max_tokens.</param>
    /// <param name="stream">Whether to stream.</param>
    /// <param name="prompt">The prompt.</param>
    /// <returns>The JSON.</returns>
    public static string Completion(int maxTokens = 8, bool stream = false, string prompt = "The capital of France is a city that") =>
        $$"""{"model": "{{ProxyFixture.Model}}", "prompt": "{{prompt}}", "max_tokens": {{maxTokens}}, "stream": {{(stream ? "true" : "false")}}}""";

    /// <summary>A chat body.</summary>
    /// <param name="maxTokens">max_tokens.</param>
    /// <param name="stream">Whether to stream.</param>
    /// <returns>The JSON.</returns>
    public static string Chat(int maxTokens = 8, bool stream = false) =>
        $$"""{"model": "{{ProxyFixture.Model}}", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name three rivers in Europe and explain where they flow."}], "max_tokens": {{maxTokens}}, "stream": {{(stream ? "true" : "false")}}}""";
}
