using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PdApp.ServiceDefaults.Metrics;

/// <summary>Registers the lean Prometheus exporter.</summary>
public static class PrometheusMetricsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="PrometheusMetricsCollector"/> (created, and listening, when <c>/metrics</c> is mapped)
    /// and configures what it exports. Safe to call more than once; every call's configuration applies.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adds meters, dropped instruments, bucket overrides.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services, Action<PrometheusMetricsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<PrometheusMetricsOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<PrometheusMetricsCollector>();
        return services;
    }
}
