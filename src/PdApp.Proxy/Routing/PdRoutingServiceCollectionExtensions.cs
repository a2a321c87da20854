using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Balancing;
using PdApp.Proxy.Routing.Discovery;
using PdApp.Proxy.Routing.Health;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Proxy.Routing.Options;
using PdApp.Proxy.Routing.P2pNccl;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PD proxy's instance registry, discovery, health checking and balancing.</summary>
public static class PdRoutingServiceCollectionExtensions
{
    /// <summary>The name of the readiness health check (not tagged <c>live</c>).</summary>
    public const string InstancesHealthCheckName = "pd-instances";

    /// <summary>The log category of ASP.NET Core's health-check service, which logs every unhealthy probe.</summary>
    internal const string HealthCheckServiceLogCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    /// <summary>
    /// Adds <see cref="IInstanceRegistry"/> (fed by <c>Pd:Instances</c>, DNS, the P2pNccl registry
    /// and the admin API), <see cref="IInstanceSelector"/> with the configured policies, active and
    /// passive health checking, and the <c>pd-instances</c> readiness check. Options are validated
    /// at start-up with messages naming the setting.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration holding the <c>Pd</c> section.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddPdRouting(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(InstanceRegistry)))
        {
            return services; // Already added: hosted services must not run twice.
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddServiceDiscoveryCore();
        services.AddConfigurationServiceEndpointProvider();
        services.AddPassThroughServiceEndpointProvider();

        services.AddOptions<InstancesOptions>()
            .Bind(configuration.GetSection(PdProxySettings.Section))
            .Configure(o => o.RefreshSeconds = configuration.GetValue(InstancesOptions.RefreshKey, o.RefreshSeconds))
            .ValidateOnStart();
        services.AddOptions<BalancingOptions>().Bind(configuration.GetSection(BalancingOptions.SectionName)).ValidateOnStart();
        services.AddOptions<ActiveHealthCheckOptions>().Bind(configuration.GetSection(ActiveHealthCheckOptions.SectionName)).ValidateOnStart();
        services.AddOptions<EjectionOptions>().Bind(configuration.GetSection(EjectionOptions.SectionName)).ValidateOnStart();
        services.AddOptions<ReadinessOptions>()
            .Configure(o => o.DecodeOnlyFallback = configuration.GetValue(ReadinessOptions.DecodeOnlyFallbackKey, false));
        services.AddOptions<AdminInstanceOptions>().Bind(configuration.GetSection(AdminInstanceOptions.SectionName)).ValidateOnStart();
        services.AddOptions<DnsDiscoveryOptions>().Bind(configuration.GetSection(DnsDiscoveryOptions.SectionName)).ValidateOnStart();
        services.AddOptions<P2pNcclRegistryOptions>()
            .Bind(configuration.GetSection(P2pNcclRegistryOptions.SectionName))
            .PostConfigure(o => P2pNcclRegistryOptions.Configure(
                o, configuration[PdProxySettings.Connector], configuration.GetSection(PdProxySettings.ChildConnectors).Get<string[]>() ?? []))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InstancesOptions>, InstancesOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DnsDiscoveryOptions>, DnsDiscoveryOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<P2pNcclRegistryOptions>, P2pNcclRegistryOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BalancingOptions>, BalancingOptionsValidator>());
        services.AddPdKvCacheRouting(configuration);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ActiveHealthCheckOptions>, ActiveHealthCheckOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EjectionOptions>, EjectionOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminInstanceOptions>, AdminInstanceOptionsValidator>());

        services.TryAddSingleton<IRoutingObserver>(NullRoutingObserver.Instance);
        services.TryAddSingleton<InstanceRegistry>();
        services.TryAddSingleton<IInstanceRegistry>(sp => sp.GetRequiredService<InstanceRegistry>());
        services.TryAddSingleton<PassiveHealthTracker>();
        services.TryAddSingleton<IInstanceOutcomeSink>(sp => sp.GetRequiredService<PassiveHealthTracker>());
        services.TryAddSingleton<IInstanceSelector>(sp => new InstanceSelector(
            sp.GetRequiredService<IInstanceRegistry>(),
            sp.GetRequiredService<IInstanceOutcomeSink>(),
            sp.GetRequiredService<IOptions<BalancingOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<KvAwareServices>()));

        services.TryAddSingleton<IHostAddressResolver, SystemHostAddressResolver>();

        // Singletons first, then the hosted-service registrations resolve them, so tests and
        // diagnostics can reach the same objects (e.g. the P2pNccl registry's bound port).
        services.TryAddSingleton<ConfigurationInstanceSource>();
        services.TryAddSingleton<DnsInstanceSource>();
        services.TryAddSingleton<ActiveHealthChecker>();
        services.TryAddSingleton<DrainedInstanceReaper>();
        services.AddHostedService(sp => sp.GetRequiredService<ConfigurationInstanceSource>());
        services.AddHostedService(sp => sp.GetRequiredService<DnsInstanceSource>());
        if (P2pNcclRegistryOptions.IsEnabled(configuration))
        {
            AddP2pNcclRegistry(services);
        }

        services.AddHostedService(sp => sp.GetRequiredService<ActiveHealthChecker>());
        services.AddHostedService(sp => sp.GetRequiredService<DrainedInstanceReaper>());

        // One instance, so readiness transitions are logged once each (AddCheck<T> resolves the singleton).
        services.TryAddSingleton<PdInstancesHealthCheck>();
        services.AddHealthChecks().AddCheck<PdInstancesHealthCheck>(InstancesHealthCheckName);

        // The health-check service logs an Error for every probe of an unready proxy (the app host
        // probes every few seconds); the readiness check logs its transitions once instead, and its
        // own failures (which that category would also have carried) under its own category.
        services.AddLogging(logging => logging.AddFilter(HealthCheckServiceLogCategory, LogLevel.Critical));
        return services;
    }

    // A method of its own, not inlined, and called only when the registry runs: compiling a method loads the
    // types it names, and the registry's base type is generic over a NetMQ socket, so naming it loads NetMQ
    // (bench/RESULTS.md 4.14, 4.20).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AddP2pNcclRegistry(IServiceCollection services)
    {
        services.TryAddSingleton<P2pNcclRegistryService>();
        services.AddHostedService(sp => sp.GetRequiredService<P2pNcclRegistryService>());
    }
}
