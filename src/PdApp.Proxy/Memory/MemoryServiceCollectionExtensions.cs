using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Memory;

/// <summary>Registers the idle memory trim (<c>Pd:Proxy:Memory</c>).</summary>
public static class MemoryServiceCollectionExtensions
{
    /// <summary>Adds the options (validated at start-up), the in-flight counter and the trim service.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration holding the <c>Pd:Proxy:Memory</c> section.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddPdMemory(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MemoryOptions>().Bind(configuration.GetSection(MemoryOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MemoryOptions>, MemoryOptionsValidator>());
        services.TryAddSingleton<InFlightRequests>();
        services.TryAddSingleton<IMemoryTrimmer, RuntimeMemoryTrimmer>();
        services.TryAddSingleton<MemoryTrimMeter>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<IdleMemoryTrimService>();
        return services;
    }
}
