using System.Globalization;
using System.Text;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// One series' tags, copied once when the series is created, with their Prometheus label text
/// (<c>key="value",...</c>, keys sanitised and sorted, values escaped) rendered once for every scrape.
/// </summary>
internal sealed class TagSet
{
    private readonly KeyValuePair<string, object?>[] _tags;

    private TagSet(KeyValuePair<string, object?>[] tags, string labels)
    {
        _tags = tags;
        Labels = labels;
    }

    /// <summary>No tags.</summary>
    public static TagSet Empty { get; } = new([], string.Empty);

    /// <summary>The series past an instrument's cardinality limit (OpenTelemetry's overflow label).</summary>
    public static TagSet Overflow { get; } = new([new("otel.metric.overflow", true)], "otel_metric_overflow=\"true\"");

    /// <summary>The rendered labels without braces, empty for no tags.</summary>
    public string Labels { get; }

    /// <summary>The tags, in the order first recorded.</summary>
    public ReadOnlySpan<KeyValuePair<string, object?>> Tags => _tags;

    /// <summary>Copies <paramref name="tags"/> (null values dropped) and renders their labels.</summary>
    /// <param name="tags">The measurement's tags.</param>
    /// <returns>The tag set.</returns>
    public static TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new List<KeyValuePair<string, object?>>(tags.Length);
        foreach (var tag in tags)
        {
            if (tag.Value is not null)
            {
                copy.Add(tag);
            }
        }

        if (copy.Count == 0)
        {
            return Empty;
        }

        var sorted = copy.OrderBy(static tag => tag.Key, StringComparer.Ordinal).ToArray();
        var labels = new StringBuilder();
        foreach (var tag in sorted)
        {
            if (labels.Length > 0)
            {
                labels.Append(',');
            }

            labels.Append(PrometheusNames.LabelName(tag.Key)).Append("=\"");
            AppendEscaped(labels, ValueText(tag.Value));
            labels.Append('"');
        }

        return new TagSet([.. copy], labels.ToString());
    }

    /// <summary>A tag value as text: strings as they are, booleans in lower case, numbers in the invariant culture.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The text.</returns>
    public static string ValueText(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Appends a label value escaped for the text format (backslash, double quote, line feed).</summary>
    /// <param name="builder">The destination.</param>
    /// <param name="value">The raw value.</param>
    public static void AppendEscaped(StringBuilder builder, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => builder.Append(@"\\"),
                '"' => builder.Append("\\\""),
                '\n' => builder.Append(@"\n"),
                _ => builder.Append(c),
            };
        }
    }
}
