using System.Text;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>
/// The labels of <c>target_info</c>: the resource attributes of <c>OTEL_RESOURCE_ATTRIBUTES</c>
/// (<c>key=value,...</c>, as the Aspire app host sets them) and <c>service.name</c> from <c>OTEL_SERVICE_NAME</c>
/// (else from the attributes, else <c>unknown_service:</c> and the process name, as OpenTelemetry defaults it).
/// OpenTelemetry's <c>telemetry.sdk.*</c> attributes are not written: the text no longer comes from its SDK.
/// </summary>
internal static class ResourceLabels
{
    private const string ServiceName = "service.name";

    /// <summary>Renders the labels from the environment.</summary>
    /// <param name="environment">Reads an environment variable.</param>
    /// <returns>The labels, without braces.</returns>
    public static string Render(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var attributes = new List<KeyValuePair<string, string>>();
        string? configuredService = null;
        foreach (var pair in (environment("OTEL_RESOURCE_ATTRIBUTES") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? pair[..equals].Trim() : string.Empty;
            if (key.Length == 0)
            {
                continue;
            }

            var value = Uri.UnescapeDataString(pair[(equals + 1)..].Trim());
            if (key == ServiceName)
            {
                configuredService = value;
            }
            else
            {
                attributes.Add(new(key, value));
            }
        }

        var service = environment("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name
            : configuredService ?? "unknown_service:" + Path.GetFileNameWithoutExtension(Environment.ProcessPath ?? "dotnet");
        attributes.Add(new(ServiceName, service));

        var labels = new StringBuilder();
        foreach (var attribute in attributes)
        {
            if (labels.Length > 0)
            {
                labels.Append(',');
            }

            labels.Append(PrometheusNames.LabelName(attribute.Key)).Append("=\"");
            TagSet.AppendEscaped(labels, attribute.Value);
            labels.Append('"');
        }

        return labels.ToString();
    }
}
