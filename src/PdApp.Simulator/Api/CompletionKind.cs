namespace PdApp.Simulator.Api;

/// <summary>Which OpenAI endpoint a request came to.</summary>
internal enum CompletionKind
{
    /// <summary><c>/v1/completions</c>.</summary>
    Text,

    /// <summary><c>/v1/chat/completions</c>.</summary>
    Chat,
}
