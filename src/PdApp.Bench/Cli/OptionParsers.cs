using System.CommandLine.Parsing;
using System.Globalization;

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
        result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
}
