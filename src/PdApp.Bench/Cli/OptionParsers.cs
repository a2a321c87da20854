using System.CommandLine.Parsing;
using System.Globalization;
using PdApp.Bench.Measurement;

namespace PdApp.Bench.Cli;

/// <summary>
/// Parsers for option values System.CommandLine has no converter for. Errors name the option
/// and say what is expected, e.g. <c>--request-rate: 'fast' is not a positive number or 'inf'.</c>
/// </summary>
internal static class OptionParsers
{
    /// <summary>A positive rate, or <c>inf</c> for unlimited.</summary>
    public static double ParseRate(ArgumentResult result)
    {
        var text = Single(result);
        if (text is null)
        {
            return double.PositiveInfinity;
        }

        if (text.Equals("inf", StringComparison.OrdinalIgnoreCase) || text.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            return double.PositiveInfinity;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0 && double.IsFinite(rate))
        {
            return rate;
        }

        result.AddError($"{OptionName(result)}: '{text}' is not a positive number or 'inf'.");
        return 0;
    }

    /// <summary>A duration such as <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, or plain seconds.</summary>
    public static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = Single(result);
        if (text is null)
        {
            return null;
        }

        if (TryParseDuration(text, out var duration) && duration > TimeSpan.Zero)
        {
            return duration;
        }

        result.AddError($"{OptionName(result)}: '{text}' is not a positive duration (e.g. 500ms, 30s, 2m, 1h).");
        return null;
    }

    /// <summary>An absolute http or https URL.</summary>
    public static Uri? ParseHttpUrl(ArgumentResult result)
    {
        var text = Single(result);
        return text is null ? null : ParseHttpUrl(result, text);
    }

    /// <summary>Two or more absolute http or https URLs.</summary>
    public static Uri[] ParseHttpUrls(ArgumentResult result)
    {
        var urls = new List<Uri>();
        foreach (var token in result.Tokens)
        {
            if (ParseHttpUrl(result, token.Value) is { } url)
            {
                urls.Add(url);
            }
        }

        return [.. urls];
    }

    /// <summary>
    /// vLLM's <c>--goodput</c>: <c>KEY:VALUE</c> pairs, the key one of <c>ttft</c>, <c>tpot</c>,
    /// <c>e2el</c>, the value a non-negative number of milliseconds.
    /// </summary>
    public static SloSettings? ParseGoodput(ArgumentResult result)
    {
        var slo = SloSettings.None;
        foreach (var token in result.Tokens)
        {
            var parts = token.Value.Split(':');
            if (parts.Length != 2
                || !LatencyMetrics.TryParse(parts[0], out var metric)
                || metric == LatencyMetric.Itl
                || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds)
                || !double.IsFinite(milliseconds)
                || milliseconds < 0)
            {
                result.AddError($"{OptionName(result)}: '{token.Value}' is not KEY:VALUE with KEY one of ttft, tpot, e2el and VALUE a non-negative number of milliseconds.");
                continue;
            }

            slo = metric switch
            {
                LatencyMetric.Ttft => slo with { TtftMilliseconds = milliseconds },
                LatencyMetric.Tpot => slo with { TpotMilliseconds = milliseconds },
                _ => slo with { E2elMilliseconds = milliseconds },
            };
        }

        return slo.IsSet ? slo : null;
    }

    /// <summary>vLLM's <c>--percentile-metrics</c>: a comma-separated list of <c>ttft</c>, <c>tpot</c>, <c>itl</c>, <c>e2el</c>.</summary>
    public static LatencyMetric[] ParseLatencyMetrics(ArgumentResult result)
    {
        var text = Single(result);
        if (text is null)
        {
            return [.. LatencyMetrics.VllmDefault];
        }

        var metrics = new List<LatencyMetric>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!LatencyMetrics.TryParse(name, out var metric))
            {
                result.AddError($"{OptionName(result)}: '{name}' is not one of ttft, tpot, itl, e2el.");
            }
            else if (!metrics.Contains(metric))
            {
                metrics.Add(metric);
            }
        }

        if (metrics.Count == 0 && !result.Errors.Any())
        {
            result.AddError($"{OptionName(result)}: name at least one of ttft, tpot, itl, e2el.");
        }

        return [.. metrics];
    }

    /// <summary>vLLM's <c>--metric-percentiles</c>: a comma-separated list of percentiles in [0, 100], e.g. <c>50,90,99</c>.</summary>
    public static double[] ParsePercentiles(ArgumentResult result)
    {
        var text = Single(result);
        if (text is null)
        {
            return [99];
        }

        var percentiles = new List<double>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out var percentile) && percentile is >= 0 and <= 100)
            {
                if (!percentiles.Contains(percentile))
                {
                    percentiles.Add(percentile);
                }
            }
            else
            {
                result.AddError($"{OptionName(result)}: '{item}' is not a percentile in [0, 100].");
            }
        }

        if (percentiles.Count == 0 && !result.Errors.Any())
        {
            result.AddError($"{OptionName(result)}: give at least one percentile, e.g. 50,90,99.");
        }

        return [.. percentiles];
    }

    /// <summary>Parses <paramref name="text"/> as a duration.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        foreach (var (suffix, seconds) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(trimmed[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && double.IsFinite(value))
            {
                duration = TimeSpan.FromSeconds(value * seconds);
                return true;
            }
        }

        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain) && double.IsFinite(plain))
        {
            duration = TimeSpan.FromSeconds(plain);
            return true;
        }

        duration = default;
        return false;
    }

    private static Uri? ParseHttpUrl(ArgumentResult result, string text)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return url;
        }

        result.AddError($"{OptionName(result)}: '{text}' is not an absolute http(s) URL.");
        return null;
    }

    private static string? Single(ArgumentResult result) => result.Tokens.Count == 0 ? null : result.Tokens[^1].Value;

    private static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? OptionRules.NameUsed(option) : result.Argument.Name;
}
