using System.Globalization;

namespace PdApp.Proxy.Routing.Load;

/// <summary>
/// Parses the Prometheus text exposition format 0.0.4 (what vLLM's <c>prometheus_client</c> serves
/// on <c>/metrics</c>) and the OpenMetrics subset it shares: <c># HELP</c>/<c># TYPE</c> and other
/// comments are skipped, label values are unescaped (<c>\\</c>, <c>\"</c>, <c>\n</c>), values may be
/// <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>, an optional timestamp may follow, lines may end in CRLF.
/// A malformed line is skipped and counted rather than failing the scrape: one odd metric from a
/// plug-in must not hide the engine's load. See
/// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format.
/// </summary>
public static class PrometheusTextParser
{
    /// <summary>Parses every sample in <paramref name="text"/>.</summary>
    /// <param name="text">The exposition text.</param>
    /// <returns>The samples and the number of malformed lines skipped.</returns>
    public static PrometheusParseResult Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var samples = new List<PrometheusSample>();
        var malformed = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (TryParseLine(line, out var sample))
            {
                samples.Add(sample);
            }
            else
            {
                malformed++;
            }
        }

        return new PrometheusParseResult(samples, malformed);
    }

    /// <summary>Parses one sample line (no comment, already trimmed).</summary>
    /// <param name="line">The line.</param>
    /// <param name="sample">The sample.</param>
    /// <returns>False when the line is malformed.</returns>
    public static bool TryParseLine(ReadOnlySpan<char> line, out PrometheusSample sample)
    {
        sample = null!;
        var nameLength = 0;
        while (nameLength < line.Length && IsNameChar(line[nameLength], nameLength == 0))
        {
            nameLength++;
        }

        if (nameLength == 0)
        {
            return false;
        }

        var name = line[..nameLength].ToString();
        var rest = line[nameLength..];
        IReadOnlyList<KeyValuePair<string, string>> labels = [];
        if (!rest.IsEmpty && rest[0] == '{')
        {
            if (!TryParseLabels(ref rest, out var parsed))
            {
                return false;
            }

            labels = parsed;
        }

        rest = rest.TrimStart();
        var valueEnd = rest.IndexOfAny(' ', '\t');
        var valueText = valueEnd < 0 ? rest : rest[..valueEnd];
        if (!TryParseValue(valueText, out var value))
        {
            return false;
        }

        long? timestamp = null;
        if (valueEnd >= 0)
        {
            var timestampText = rest[valueEnd..].Trim();
            if (!timestampText.IsEmpty)
            {
                // OpenMetrics writes seconds with a fraction; 0.0.4 writes integer milliseconds.
                if (long.TryParse(timestampText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
                {
                    timestamp = ms;
                }
                else if (double.TryParse(timestampText, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                {
                    timestamp = (long)(seconds * 1000);
                }
                else
                {
                    return false;
                }
            }
        }

        sample = new PrometheusSample(name, labels, value, timestamp);
        return true;
    }

    private static bool TryParseLabels(ref ReadOnlySpan<char> rest, out List<KeyValuePair<string, string>> labels)
    {
        labels = [];
        var i = 1;
        while (true)
        {
            while (i < rest.Length && (rest[i] == ' ' || rest[i] == ','))
            {
                i++;
            }

            if (i >= rest.Length)
            {
                return false;
            }

            if (rest[i] == '}')
            {
                rest = rest[(i + 1)..];
                return true;
            }

            var nameStart = i;
            while (i < rest.Length && IsLabelNameChar(rest[i], i == nameStart))
            {
                i++;
            }

            if (i == nameStart)
            {
                return false;
            }

            var labelName = rest[nameStart..i].ToString();
            while (i < rest.Length && rest[i] == ' ')
            {
                i++;
            }

            if (i + 1 >= rest.Length || rest[i] != '=' || rest[i + 1] != '"')
            {
                return false;
            }

            i += 2;
            var value = new System.Text.StringBuilder();
            var closed = false;
            while (i < rest.Length)
            {
                var c = rest[i++];
                if (c == '"')
                {
                    closed = true;
                    break;
                }

                if (c == '\\' && i < rest.Length)
                {
                    var escaped = rest[i++];
                    value.Append(escaped switch
                    {
                        'n' => '\n',
                        '\\' => '\\',
                        '"' => '"',
                        _ => escaped,
                    });
                }
                else
                {
                    value.Append(c);
                }
            }

            if (!closed)
            {
                return false;
            }

            labels.Add(new KeyValuePair<string, string>(labelName, value.ToString()));
        }
    }

    private static bool TryParseValue(ReadOnlySpan<char> text, out double value)
    {
        switch (text)
        {
            case "NaN":
                value = double.NaN;
                return true;
            case "+Inf" or "Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsNameChar(char c, bool first) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' or ':' || (!first && c is >= '0' and <= '9');

    private static bool IsLabelNameChar(char c, bool first) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || (!first && c is >= '0' and <= '9');
}

/// <summary>The samples of one exposition and how many lines could not be read.</summary>
/// <param name="Samples">The samples, in order.</param>
/// <param name="MalformedLines">Lines skipped as malformed.</param>
public sealed record PrometheusParseResult(IReadOnlyList<PrometheusSample> Samples, int MalformedLines);
