using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>Registers the KV event indexer, the engine tokenizer and what the <c>KvAware</c> policy reads.</summary>
internal static class KvCacheServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="KvCacheOptions"/> (<c>Pd:Proxy:KvCache</c>, validated at start-up), the index and
    /// the indexer, which runs when <c>Enabled</c> or when either role's policy is <c>KvAware</c>.
    /// </summary>
    public static IServiceCollection AddPdKvCacheRouting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KvCacheOptions>()
            .Bind(configuration.GetSection(KvCacheOptions.SectionName))
            .PostConfigure<IOptions<BalancingOptions>>((kv, balancing) =>
                kv.Enabled |= balancing.Value.Prefill == BalancingPolicyKind.KvAware || balancing.Value.Decode == BalancingPolicyKind.KvAware)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KvCacheOptions>, KvCacheOptionsValidator>());
        services.TryAddSingleton<KvCacheMeter>();
        services.TryAddSingleton<KvBlockIndex>();
        services.TryAddSingleton<KvAwareServices>();
        services.TryAddSingleton<EngineTokenizer>();
        services.TryAddSingleton(sp => new KvCacheRouting(
            sp.GetRequiredService<KvAwareServices>(),
            sp.GetRequiredService<EngineTokenizer>(),
            sp.GetRequiredService<IInstanceRegistry>(),
            sp.GetRequiredService<IOptions<BalancingOptions>>()));
        services.TryAddSingleton<KvCacheIndexer>();
        services.AddHostedService(sp => sp.GetRequiredService<KvCacheIndexer>());
        return services;
    }
}
