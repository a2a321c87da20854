using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PdApp.Simulator.Api;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Faults;
using PdApp.Simulator.Generation;
using PdApp.Simulator.KvEvents;
using PdApp.Simulator.KvTransfer;
using PdApp.Simulator.Metrics;
using PdApp.Simulator.Scheduling;

namespace PdApp.Simulator.Hosting;

/// <summary>Registers the simulated engine: one of each part per instance, all singletons.</summary>
internal static class SimulatorServiceCollectionExtensions
{
    /// <summary>Adds the engine, its connector, metrics and HTTP handlers for <paramref name="options"/>.</summary>
    public static IServiceCollection AddSimulator(this IServiceCollection services, SimulatorOptions options)
    {
        services.AddSingleton(options);
        // A clock registered before (tests: FakeTimeProvider) drives every timer of the engine.
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SimulatorEnvironment>();
        services.AddSingleton<InstanceIdentity>();
        services.AddSingleton<PromptTokenizer>();
        services.AddSingleton<CompletionRequestParser>();
        services.AddSingleton<EngineScheduler>();
        services.AddSingleton<PrefixCache>();
        if (options.KvEvents is { PublishesOverZmq: true })
        {
            services.AddSingleton<ZmqKvEventPublisher>();
            services.AddSingleton<IKvEventSink>(sp => sp.GetRequiredService<ZmqKvEventPublisher>());
            services.AddHostedService(sp => sp.GetRequiredService<ZmqKvEventPublisher>());
        }
        else
        {
            services.AddSingleton<IKvEventSink, NullKvEventSink>();
        }
        services.AddSingleton<PrefillCompute>();
        services.AddSingleton<TimingModel>();
        services.AddSingleton<SimulatorMetrics>();
        services.AddSingleton<SimulatorMeter>();
        services.AddSingleton<FailureInjector>();
        services.AddSingleton<HealthState>();
        services.AddSingleton<CompletionEngine>();
        services.AddSingleton<CompletionEndpoint>();
        services.AddSingleton<KvConnectorFactory>();
        services.AddSingleton(sp => sp.GetRequiredService<KvConnectorFactory>().Create());
        services.AddHostedService<KvConnectorHost>();

        return services;
    }
}
