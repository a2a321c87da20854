namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// Compares tag sets regardless of tag order, and a measurement's tag span against a stored set without
/// copying it: the alternate lookup that lets a known tag set find its series with no allocation.
/// Null-valued tags are ignored, as <see cref="TagSet.Create"/> drops them.
/// </summary>
internal sealed class TagSetComparer : IEqualityComparer<TagSet>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, TagSet>
{
    /// <summary>The one instance.</summary>
    public static TagSetComparer Instance { get; } = new();

    /// <inheritdoc />
    public bool Equals(TagSet? x, TagSet? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && Equals(x.Tags, y));

    /// <inheritdoc />
    public int GetHashCode(TagSet obj) => GetHashCode(obj.Tags);

    /// <inheritdoc />
    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, TagSet other)
    {
        var stored = other.Tags;
        var count = 0;
        for (var i = 0; i < alternate.Length; i++)
        {
            var tag = alternate[i];
            if (tag.Value is null)
            {
                continue;
            }

            // Callers pass their tags in one order, the order the series was created with: try that position first.
            var matched = count < stored.Length && string.Equals(stored[count].Key, tag.Key, StringComparison.Ordinal)
                ? Equals(stored[count].Value, tag.Value)
                : Contains(stored, tag);
            count++;
            if (!matched)
            {
                return false;
            }
        }

        return count == stored.Length;
    }

    /// <inheritdoc />
    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate)
    {
        // A sum over the tags, so any order of the same tags hashes alike. Keys count by their length only (one
        // string hash per tag, not two): equality compares them in full.
        var hash = 0;
        foreach (var tag in alternate)
        {
            if (tag.Value is { } value)
            {
                hash += (value.GetHashCode() * 31) ^ tag.Key.Length;
            }
        }

        return hash;
    }

    /// <inheritdoc />
    public TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.Create(alternate);

    private static bool Contains(ReadOnlySpan<KeyValuePair<string, object?>> tags, KeyValuePair<string, object?> tag)
    {
        foreach (var candidate in tags)
        {
            if (string.Equals(candidate.Key, tag.Key, StringComparison.Ordinal))
            {
                return Equals(candidate.Value, tag.Value);
            }
        }

        return false;
    }
}
