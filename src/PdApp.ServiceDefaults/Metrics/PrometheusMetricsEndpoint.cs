using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>Maps the lean exporter's scrape endpoint.</summary>
public static class PrometheusMetricsEndpoint
{
    /// <summary>
    /// Maps <c>GET <paramref name="path"/></c> to the <see cref="PrometheusMetricsCollector"/>'s text: OpenMetrics 1.0
    /// when the scraper's <c>Accept</c> names <c>application/openmetrics-text</c> (Prometheus does), else the
    /// Prometheus text format 0.0.4, as OpenTelemetry's exporter negotiated. Requires
    /// <see cref="PrometheusMetricsServiceCollectionExtensions.AddPrometheusMetrics"/>. Chain
    /// <c>RequireAuthorization</c> on the result to protect it.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="path">The path, e.g. <c>/metrics</c>.</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string path)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(path);

        // Resolved here, not on the first scrape: the listener must count from the start.
        var collector = endpoints.ServiceProvider.GetRequiredService<PrometheusMetricsCollector>();
        return endpoints.MapGet(path, (HttpContext context) => WriteAsync(context, collector));
    }

    private static Task WriteAsync(HttpContext context, PrometheusMetricsCollector collector)
    {
        var openMetrics = WantsOpenMetrics(context.Request.Headers.Accept);
        var response = context.Response;
        response.ContentType = openMetrics ? PrometheusMetricsCollector.OpenMetricsContentType : PrometheusMetricsCollector.TextContentType;
        response.Headers.CacheControl = "no-store";
        var body = response.BodyWriter;
        collector.Write(openMetrics, chunk => Encoding.UTF8.GetBytes(chunk.Span, body));
        return body.FlushAsync(context.RequestAborted).AsTask();
    }

    private static bool WantsOpenMetrics(Microsoft.Extensions.Primitives.StringValues accept)
    {
        foreach (var value in accept)
        {
            if (value is not null && value.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
