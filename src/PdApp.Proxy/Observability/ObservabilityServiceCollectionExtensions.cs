using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Observability.Requests;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Proxy.Routing.Load;
using PdApp.ServiceDefaults.Metrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the proxy's traces, timing metrics, instance gauges and load scraper.</summary>
public static class ObservabilityServiceCollectionExtensions
{
    /// <summary>The proxy's meters: the request path's, the instances', and the KV cache index's.</summary>
    public static IReadOnlyList<string> MeterNames { get; } = [ProxyMeter.MeterName, InstanceMetrics.MeterName, KvCacheMeter.MeterName];

    /// <summary>
    /// Adds the <c>PdApp.Proxy</c> activity source and the <c>pdapp.proxy</c> and
    /// <c>pdapp.instance</c> meters to the Prometheus exporter and OpenTelemetry (OTLP), the <see cref="IProxyObserver"/> the request
    /// pipeline reports to, the <see cref="IRoutingObserver"/> the routing layer reports to, and the
    /// instance load scraper. Requires <c>AddPdRouting</c> (the instance registry).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration holding <c>Pd:Proxy:LoadScrape</c>.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddPdObservability(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.TryAddSingleton<ProxyTracing>();
        services.TryAddSingleton<ProxyMeter>();
        services.TryAddSingleton<ProxyObserver>();
        services.Replace(ServiceDescriptor.Singleton<IProxyObserver>(sp => sp.GetRequiredService<ProxyObserver>()));
        services.AddPrometheusMetrics(metrics => metrics.Meters.UnionWith(MeterNames));
        if (ServiceDefaultsExtensions.HasOtlpEndpoint(configuration))
        {
            AddToOpenTelemetry(services);
        }

        return services.AddPdInstanceLoadScraper(configuration);
    }

    /// <summary>
    /// Adds the hosted scraper that reads each instance's <c>/metrics</c> every
    /// <c>Pd:Proxy:LoadScrape:IntervalSeconds</c> into <c>UpstreamInstance.Load</c>, and the
    /// <c>pdapp.instance</c> gauges that republish it. Options are validated at start-up.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration holding <c>Pd:Proxy:LoadScrape</c>.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddPdInstanceLoadScraper(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<LoadScrapeOptions>().Bind(configuration.GetSection(LoadScrapeOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LoadScrapeOptions>, LoadScrapeOptionsValidator>());
        services.TryAddSingleton<InstanceMetrics>();
        services.Replace(ServiceDescriptor.Singleton<IRoutingObserver>(sp => sp.GetRequiredService<InstanceMetrics>()));

        // No resilience handler: a retried scrape only delays the next reading. Each scrape has its
        // own timeout, so the client's total timeout is off. No HttpClient logging either: four
        // Information lines per instance every interval would bury the one line per client request.
        services.AddHttpClient(InstanceLoadScraper.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        services.TryAddSingleton<InstanceLoadScraper>();
        services.AddHostedService(sp => sp.GetRequiredService<InstanceLoadScraper>());

        // Gauges are observable: create the meter with the host, not on the first scrape.
        services.AddPrometheusMetrics(metrics => metrics.Meters.Add(InstanceMetrics.MeterName));
        return services;
    }

    // OpenTelemetry's SDK runs only for an OTLP endpoint (ServiceDefaults); a method of its own, not inlined,
    // so its API assemblies are not even loaded without one (bench/RESULTS.md 4.14, 4.19).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddToOpenTelemetry(IServiceCollection services)
    {
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(ProxyTracing.SourceName));
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter([.. MeterNames]));
    }
}
