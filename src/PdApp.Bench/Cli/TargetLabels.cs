namespace PdApp.Bench.Cli;

/// <summary>
/// Short labels of the targets for tables, chart legends and result file names: <c>host:port</c>
/// of a server, <c>pd-direct</c> for a prefill/decode pair, or the label given.
/// </summary>
internal static class TargetLabels
{
    /// <summary>The label of a client-driven prefill/decode pair.</summary>
    public const string PdDirect = "pd-direct";

    /// <summary>The labels of the primary target and, when given, the compare target; never two equal.</summary>
    public static IReadOnlyList<string> Create(TargetSpec primary, string? primaryLabel, Uri? compare, string? compareLabel)
    {
        ArgumentNullException.ThrowIfNull(primary);
        var first = Or(primaryLabel, primary.PdDirect is null ? ForUrl(primary.BaseUrl!) : PdDirect);
        if (compare is null)
        {
            return [first];
        }

        var second = Or(compareLabel, ForUrl(compare));
        return [first, second == first ? second + " (2)" : second];
    }

    /// <summary><c>host:port</c>, with the path when it is not the root.</summary>
    public static string ForUrl(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var path = url.AbsolutePath.TrimEnd('/');
        return url.Authority + path;
    }

    private static string Or(string? given, string fallback) => string.IsNullOrWhiteSpace(given) ? fallback : given.Trim();
}
