using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PdApp.ServiceDefaults.Metrics;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Aspire service defaults shared by the proxy and the simulator: metrics on Prometheus <c>/metrics</c>
/// (the lean exporter in <c>Metrics/</c>), OpenTelemetry logs, traces and metrics over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, health checks, service discovery. Outgoing <see cref="System.Net.Http.HttpClient"/>s get service discovery only:
/// the standard resilience handler's 10 s attempt timeout would cut token streams, so callers
/// that want it opt in with <c>AddStandardResilienceHandler</c>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Adds OpenTelemetry, default health checks and service discovery.</summary>
    /// <typeparam name="TBuilder">The host application builder.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="meterNames">Extra meters to export (the service's own <c>pdapp.*</c> meters).</param>
    /// <returns>The builder, for chaining.</returns>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, params string[] meterNames)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.ConfigureOpenTelemetry(meterNames);
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
        return builder;
    }

    /// <summary>
    /// Framework instruments not exported: Kestrel's memory pool (every buffer rented or returned),
    /// HttpClient's open-connection count (every idle/active change of a pooled connection) and
    /// its time-in-queue (every request that finds a free connection at once).
    /// </summary>
    public static IReadOnlyList<string> PerOperationInstruments { get; } =
        ["aspnetcore.memory_pool.*", "http.client.open_connections", "http.client.request.time_in_queue"];

    /// <summary>
    /// Configures metrics, and with an OTLP endpoint logging and tracing through OpenTelemetry.
    /// <c>/metrics</c> always comes from the lean Prometheus exporter (<see cref="PrometheusMetricsCollector"/>, a
    /// <see cref="System.Diagnostics.Metrics.MeterListener"/> over <paramref name="meterNames"/> and the framework
    /// meters OpenTelemetry's ASP.NET Core, HttpClient and runtime instrumentations enable), so the Prometheus
    /// text has one owner. OpenTelemetry's SDK is registered only for an OTLP endpoint (the Aspire dashboard):
    /// it then exports the same instruments over OTLP, next to the lean exporter (bench/RESULTS.md 4.19).
    /// </summary>
    /// <typeparam name="TBuilder">The host application builder.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="meterNames">Extra meters and activity sources to export.</param>
    /// <returns>The builder, for chaining.</returns>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder, params string[] meterNames)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(meterNames);
        builder.Services.AddPrometheusMetrics(options =>
        {
            options.Meters.UnionWith(meterNames);

            // Instruments updated on every buffer rent or connection state change rather than per request
            // (bench/RESULTS.md 4.9). Dropped instruments are never enabled, so they cost nothing.
            foreach (var instrument in PerOperationInstruments)
            {
                options.DroppedInstruments.Add(instrument);
            }
        });

        // Spans, log records and OTLP metrics are built only for an exporter: without one, a tracer provider
        // would sample and tag every server and client span of every request for nobody (bench/RESULTS.md 4.4),
        // an OpenTelemetry logger would copy every record for nobody, and the metrics SDK would hold ~16 MB of
        // data points for a second copy of what /metrics serves (4.19). W3C trace context still flows without
        // it: ASP.NET Core keeps the caller's traceparent on the request's activity and HttpClient injects it
        // into every upstream call.
        if (HasOtlpEndpoint(builder.Configuration))
        {
            AddOtlpExport(builder, meterNames);
        }

        return builder;
    }

    // A method of its own, not inlined: compiling a method loads every assembly its calls name, so
    // OpenTelemetry's SDK and the OTLP exporter are loaded only when an endpoint is configured (bench/RESULTS.md 4.14).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddOtlpExport<TBuilder>(TBuilder builder, string[] meterNames)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        var openTelemetry = builder.Services.AddOpenTelemetry();
        openTelemetry.WithMetrics(metrics =>
        {
            metrics.AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(meterNames);
            foreach (var instrument in PerOperationInstruments)
            {
                metrics.AddView(instrument, MetricStreamConfiguration.Drop);
            }
        });
        openTelemetry.WithTracing(tracing =>
        {
            tracing.AddSource(builder.Environment.ApplicationName)
                .AddSource(meterNames)
                .AddAspNetCoreInstrumentation(options =>
                {
                    // Health probes and scrapes would drown the request traces.
                    options.Filter = context => !IsProbe(context.Request.Path);
                    options.RecordException = true;
                })
                .AddHttpClientInstrumentation(options =>
                {
                    // The proxy's own probes and load scrapes of every instance, every few seconds.
                    options.FilterHttpRequestMessage = request => request.RequestUri is not { } uri || !IsProbe(uri.AbsolutePath);
                    options.RecordException = true;
                });
        });
        openTelemetry.UseOtlpExporter();
    }

    /// <summary>
    /// Whether traces have a consumer: an OTLP endpoint (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or
    /// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>), as the Aspire app host sets for every resource.
    /// </summary>
    /// <param name="configuration">The configuration.</param>
    /// <returns>Whether to build and export spans.</returns>
    public static bool HasOtlpEndpoint(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments(HealthEndpoints.HealthPath)
        || path.StartsWithSegments(HealthEndpoints.AlivePath)
        || path.StartsWithSegments(HealthEndpoints.MetricsPath);

    /// <summary>Adds a liveness check tagged <see cref="HealthEndpoints.LiveTag"/>.</summary>
    /// <typeparam name="TBuilder">The host application builder.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [HealthEndpoints.LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (all checks), <c>/alive</c> (live checks) and the Prometheus
    /// <c>/metrics</c> endpoint (the lean exporter, <see cref="PrometheusMetricsEndpoint"/>). Unlike Aspire's template these are mapped in every environment:
    /// vLLM answers <c>/health</c> in production too and orchestrators probe it.
    /// </summary>
    /// <param name="app">The web application.</param>
    /// <param name="mapPrometheus">
    /// Whether to map the Prometheus exporter on <c>/metrics</c>; the simulator serves vLLM's own
    /// metric text there instead (its collector is then never created, so nothing listens).
    /// </param>
    /// <returns>The application, for chaining.</returns>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, bool mapPrometheus = true)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapHealthChecks(HealthEndpoints.HealthPath);
        app.MapHealthChecks(HealthEndpoints.AlivePath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(HealthEndpoints.LiveTag),
        });
        if (mapPrometheus)
        {
            app.MapPrometheusMetrics(HealthEndpoints.MetricsPath);
        }

        return app;
    }
}
