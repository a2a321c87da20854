namespace PdApp.Bench.Targets;

/// <summary>The OpenAI-compatible API a run calls.</summary>
internal enum EndpointKind
{
    /// <summary><c>POST /v1/completions</c> with a <c>prompt</c>.</summary>
    Completions,

    /// <summary><c>POST /v1/chat/completions</c> with one user message.</summary>
    Chat,
}
