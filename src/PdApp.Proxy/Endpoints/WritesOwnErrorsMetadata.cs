namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Endpoint metadata: every error response of the endpoint is written by the endpoint itself in
/// OpenAI's shape (refusals, validation, admission, upstream failures, and a 500 for a bug), so
/// <see cref="OpenAiStatusCodePages"/> has nothing to add and its middleware is not run for it. The
/// middleware's per-request state (its feature, its state machine and the <c>HttpContext.Items</c>
/// dictionary it stores its options in) would otherwise be held for a stream's whole lifetime
/// (~0.3 KB per stream, bench/RESULTS.md 4.20).
/// </summary>
internal sealed class WritesOwnErrorsMetadata
{
    private WritesOwnErrorsMetadata()
    {
    }

    /// <summary>The instance to add to an endpoint's metadata.</summary>
    public static WritesOwnErrorsMetadata Instance { get; } = new();
}
