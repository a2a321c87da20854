namespace PdApp.Bench.MinimalProxy;

/// <summary>The two instances and the connector family (<c>SharedStorage</c> style or <c>Nixl</c>).</summary>
/// <param name="Prefill">The prefill instance's base address.</param>
/// <param name="Decode">The decode instance's base address.</param>
/// <param name="Nixl">Whether to do NIXL's <c>kv_transfer_params</c> exchange.</param>
internal sealed record MinimalPdProxyOptions(Uri Prefill, Uri Decode, bool Nixl)
{
    /// <summary>Reads <c>Prefill</c>, <c>Decode</c> and <c>Connector</c> from configuration.</summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The options.</returns>
    public static MinimalPdProxyOptions From(IConfiguration configuration)
    {
        var prefill = configuration["Prefill"] ?? throw new InvalidOperationException("Set --Prefill=<url> (the prefill instance).");
        var decode = configuration["Decode"] ?? throw new InvalidOperationException("Set --Decode=<url> (the decode instance).");
        var connector = configuration["Connector"] ?? "SharedStorageConnector";
        return new MinimalPdProxyOptions(
            new Uri(prefill, UriKind.Absolute),
            new Uri(decode, UriKind.Absolute),
            connector.Contains("Nixl", StringComparison.OrdinalIgnoreCase));
    }
}
