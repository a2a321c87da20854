namespace PdApp.Hosting;

/// <summary>How an image starts vLLM's OpenAI-compatible server (its "flavour").</summary>
/// <remarks>
/// The integration always sets the entrypoint itself, so the arguments do not depend on what an
/// image's own <c>ENTRYPOINT</c> happens to be (the guide's images start a shell).
/// </remarks>
public enum VllmEntrypoint
{
    /// <summary><c>vllm serve &lt;model&gt; ...</c>: current images (and vLLM &gt;= 0.5 in general).</summary>
    VllmServe,

    /// <summary><c>python3 -m vllm.entrypoints.openai.api_server --model &lt;model&gt; ...</c>: older images.</summary>
    OpenAiApiServer,
}
