namespace PdApp.Bench.Targets;

/// <summary>What every request of a run looks like apart from its prompt.</summary>
/// <param name="Endpoint">Completions or chat.</param>
/// <param name="Model">The <c>model</c> field.</param>
/// <param name="Stream">Whether to stream (with <c>stream_options.include_usage</c> so token counts come from the server).</param>
/// <param name="IgnoreEos">Send <c>ignore_eos</c> so the server generates exactly <c>max_tokens</c> (vLLM extension).</param>
/// <param name="ApiKey">Sent as <c>Authorization: Bearer</c>, or null.</param>
/// <param name="Timeout">Per-request limit, first byte to last.</param>
internal sealed record RequestShape(
    EndpointKind Endpoint,
    string Model,
    bool Stream,
    bool IgnoreEos,
    string? ApiKey,
    TimeSpan Timeout)
{
    /// <summary>The endpoint's URL under <paramref name="baseUrl"/>; a base ending in <c>/v1</c> is accepted too.</summary>
    public Uri EndpointUrl(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var path = baseUrl.AbsolutePath.TrimEnd('/');
        var versioned = path.EndsWith("/v1", StringComparison.Ordinal) ? path : path + "/v1";
        var leaf = Endpoint == EndpointKind.Chat ? "/chat/completions" : "/completions";
        return new UriBuilder(baseUrl) { Path = versioned + leaf }.Uri;
    }
}
