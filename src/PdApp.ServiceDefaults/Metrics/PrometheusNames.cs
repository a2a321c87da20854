using System.Text;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// How an instrument's name and unit become a Prometheus metric name, as OpenTelemetry's Prometheus exporter
/// writes them (the names the proxy has always exported, which dashboards, alerts and the benches read):
/// characters other than letters, digits and <c>:</c> become one <c>_</c>; the unit, with its <c>{annotations}</c>
/// removed and abbreviations spelled out (<c>s</c> -> <c>seconds</c>, <c>By</c> -> <c>bytes</c>, <c>a/b</c> ->
/// <c>a_per_b</c>, <c>1</c> -> nothing), is appended unless the name holds it already; counters end in <c>_total</c>.
/// (OpenTelemetry 1.20's exporter adds no <c>_ratio</c> to gauges of unit <c>1</c>: <c>pdapp_instance_kv_cache_usage</c>.)
/// </summary>
public static class PrometheusNames
{
    /// <summary>The Prometheus metric name (without the <c>_bucket</c>/<c>_sum</c>/<c>_count</c> suffixes of histograms).</summary>
    /// <param name="instrumentName">The instrument's name, e.g. <c>pdapp.proxy.requests</c>.</param>
    /// <param name="unit">The instrument's UCUM unit, or null.</param>
    /// <param name="type">The Prometheus type the instrument maps to.</param>
    /// <returns>The metric name, e.g. <c>pdapp_proxy_requests_total</c>.</returns>
    public static string MetricName(string instrumentName, string? unit, PrometheusMetricType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(instrumentName);
        var name = Sanitize(instrumentName, allowColon: true);
        if (!string.IsNullOrEmpty(unit))
        {
            var suffix = Unit(unit);
            if (!name.Contains(suffix, StringComparison.Ordinal))
            {
                name = name + "_" + suffix;
            }
        }

        if (type == PrometheusMetricType.Counter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        return name;
    }

    /// <summary>A label name: characters other than letters and digits become one <c>_</c>.</summary>
    /// <param name="key">The tag key, e.g. <c>http.request.method</c>.</param>
    /// <returns>The label name, e.g. <c>http_request_method</c>.</returns>
    public static string LabelName(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return Sanitize(key, allowColon: false);
    }

    /// <summary>The unit as a name suffix: annotations removed, abbreviations spelled out.</summary>
    /// <param name="unit">The UCUM unit.</param>
    /// <returns>The suffix, empty for a unit of only annotations or <c>1</c>.</returns>
    public static string Unit(string unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var plain = RemoveAnnotations(unit);
        var slash = plain.IndexOf('/', StringComparison.Ordinal);
        return slash >= 0 && slash < plain.Length - 1
            ? MapUnit(plain[..slash]) + "_per_" + MapPerUnit(plain[(slash + 1)..])
            : MapUnit(plain);
    }

    private static string Sanitize(string name, bool allowColon)
    {
        var builder = new StringBuilder(name.Length);
        var lastUnderscore = false;
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            var valid = char.IsAsciiLetterOrDigit(c) || (allowColon && c == ':') || c == '_';
            if (i == 0 && char.IsAsciiDigit(c))
            {
                builder.Append('_');
                lastUnderscore = true;
            }

            if (!valid || c == '_')
            {
                if (!lastUnderscore)
                {
                    builder.Append('_');
                    lastUnderscore = true;
                }

                continue;
            }

            builder.Append(c);
            lastUnderscore = false;
        }

        return builder.ToString();
    }

    private static string RemoveAnnotations(string unit)
    {
        var builder = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string MapUnit(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" or "B" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" or "KB" => "kilobytes",
        "MBy" or "MB" => "megabytes",
        "GBy" or "GB" => "gigabytes",
        "TBy" or "TB" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => string.Empty,
        "%" => "percent",
        "$" => "dollars",
        _ => unit,
    };

    private static string MapPerUnit(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => unit,
    };
}
