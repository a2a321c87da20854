namespace PdApp.Hosting.Topology;

/// <summary>An image reference split the way Aspire stores it (registry, image, tag).</summary>
/// <param name="Registry">The registry host, or null for Docker Hub's default.</param>
/// <param name="Image">The repository path.</param>
/// <param name="Tag">The tag.</param>
public sealed record ImageReference(string? Registry, string Image, string Tag)
{
    /// <summary>Parses <c>[registry/]repository:tag</c>; a tag is required (no implicit <c>latest</c>).</summary>
    /// <param name="reference">The reference.</param>
    /// <param name="result">The parsed reference.</param>
    /// <returns>Whether it parsed.</returns>
    public static bool TryParse(string? reference, out ImageReference? result)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(reference) || reference.Contains('@', StringComparison.Ordinal))
        {
            return false;
        }

        var lastSlash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        if (colon <= lastSlash || colon == reference.Length - 1)
        {
            return false;
        }

        var tag = reference[(colon + 1)..];
        var name = reference[..colon];
        string? registry = null;
        var firstSlash = name.IndexOf('/', StringComparison.Ordinal);
        if (firstSlash > 0)
        {
            // Docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
            var first = name[..firstSlash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            {
                registry = first;
                name = name[(firstSlash + 1)..];
            }
        }

        if (name.Length == 0)
        {
            return false;
        }

        result = new ImageReference(registry, name, tag);
        return true;
    }
}
