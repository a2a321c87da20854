using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery.Http;
using PdApp.Protocol;
using PdApp.Proxy.Endpoints;
using PdApp.Proxy.Memory;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Admission;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Flows.LMCache;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Proxy;

/// <summary>Registers the proxy's request path (routing is registered separately).</summary>
public static class ProxyServiceCollectionExtensions
{
    /// <summary>Adds options (validated at start-up), the PD flow, the upstream channel, admission and metrics.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration holding the <c>Pd</c> section.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddPdProxy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<DeploymentOptions>().Bind(configuration.GetSection(PdProxySettings.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DeploymentOptions>, DeploymentOptionsValidator>();
        services.AddOptions<ProxyOptions>().Bind(configuration.GetSection(ProxyOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProxyOptions>, ProxyOptionsValidator>();
        services.AddOptions<HostOptions>().Configure<IOptions<ProxyOptions>>(
            (host, proxy) => host.ShutdownTimeout = TimeSpan.FromSeconds(proxy.Value.ShutdownTimeoutSeconds));

        services.AddHttpForwarder();
        services.AddOptions<LMCacheOptions>()
            .Bind(configuration.GetSection(LMCacheOptions.SectionName))
            .PostConfigure<IOptions<DeploymentOptions>>((o, deployment) => LMCacheOptions.Configure(o, deployment.Value.Connector, deployment.Value.ChildConnectors))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LMCacheOptions>, LMCacheOptionsValidator>();
        services.AddSingleton<KvReadyNotifications>();
        if (LMCacheOptions.IsEnabled(configuration))
        {
            AddKvReadyListener(services);
        }

        services.AddSingleton(sp => ConnectorFlowResolver.Create(
            sp.GetRequiredService<IOptions<DeploymentOptions>>().Value,
            sp.GetRequiredService<KvReadyNotifications>(),
            sp.GetRequiredService<IOptions<LMCacheOptions>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<UpstreamTimeouts>();
        services.AddSingleton(sp => new UpstreamChannel(
            sp.GetRequiredService<UpstreamTimeouts>(), sp.GetService<IServiceDiscoveryHttpMessageHandlerFactory>()));
        services.AddSingleton<PrefillClient>();
        services.AddSingleton<DecodeForwarder>();
        services.AddSingleton<PdRequestPipeline>();
        services.AddSingleton<CompletionHandler>();
        services.TryAddSingleton<InFlightRequests>();
        services.TryAddSingleton<RequestLogScopes>();
        services.AddSingleton<RequestBodyGate>();
        services.AddSingleton<ShutdownDeadline>();
        services.AddHostedService<ShutdownDrainDelay>();
        services.AddHostedService<MigrationWarmUp>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AdmissionController>();
        services.TryAddSingleton<IProxyObserver>(NullRequestObserver.Instance);
        services.AddHealthChecks().AddCheck<ShutdownReadinessHealthCheck>(ShutdownReadinessHealthCheck.Name);
        return services;
    }

    // Not inlined, and called only when the listener runs: its base type is generic over a NetMQ socket, so
    // naming it loads NetMQ (bench/RESULTS.md 4.20).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AddKvReadyListener(IServiceCollection services)
    {
        services.AddSingleton<KvReadyListener>();
        services.AddHostedService(sp => sp.GetRequiredService<KvReadyListener>());
    }
}
