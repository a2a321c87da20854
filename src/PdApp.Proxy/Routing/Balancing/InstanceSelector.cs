using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// The proxy's <see cref="IInstanceSelector"/>: reads the registry's current snapshot (no locks)
/// and applies the role's policy (<c>Pd:Proxy:Balancing:Prefill</c> / <c>:Decode</c>).
/// </summary>
public sealed class InstanceSelector : IInstanceSelector
{
    private readonly IInstanceRegistry _registry;
    private readonly IInstanceOutcomeSink _outcomes;
    private readonly TimeProvider _time;
    private readonly IBalancingPolicy _prefill;
    private readonly IBalancingPolicy _decode;
    private readonly IBalancingPolicy _both;

    /// <summary>Creates the selector.</summary>
    /// <param name="registry">The instances.</param>
    /// <param name="outcomes">Receives the leases' outcomes (passive health checking).</param>
    /// <param name="options">The policies per role.</param>
    /// <param name="time">The clock availability is judged by.</param>
    public InstanceSelector(IInstanceRegistry registry, IInstanceOutcomeSink outcomes, IOptions<BalancingOptions> options, TimeProvider time)
        : this(registry, outcomes, options, time, Random.Shared)
    {
    }

    internal InstanceSelector(IInstanceRegistry registry, IInstanceOutcomeSink outcomes, IOptions<BalancingOptions> options, TimeProvider time, KvCache.KvAwareServices kvCache)
        : this(registry, outcomes, options, time, Random.Shared, kvCache)
    {
    }

    internal InstanceSelector(
        IInstanceRegistry registry, IInstanceOutcomeSink outcomes, IOptions<BalancingOptions> options, TimeProvider time, Random random, KvCache.KvAwareServices? kvCache = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _registry = registry;
        _outcomes = outcomes;
        _time = time;
        var settings = options.Value;
        _prefill = BalancingPolicyFactory.Create(settings.Prefill, settings, random, kvCache, PdRole.Prefill);
        _decode = BalancingPolicyFactory.Create(settings.Decode, settings, random, kvCache, PdRole.Decode);
        _both = BalancingPolicyFactory.Create(BalancingPolicyKind.LeastOutstanding, settings, random);
    }

    /// <inheritdoc />
    public InstanceLease? Select(PdRole role, RoutingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var policy = role switch
        {
            PdRole.Prefill => _prefill,
            PdRole.Decode => _decode,
            _ => _both,
        };
        var selection = new SelectionRequest(_registry.GetInstances(role), context, _time.GetUtcNow());
        InstanceWork? work = null;
        var chosen = HeldPrefix(selection, policy) ?? policy.Choose(selection, out work);
        if (chosen is null)
        {
            return null;
        }

        // A decode that prefills alone carries that prompt work too, whichever policy chose it.
        if (role == PdRole.Decode && context.DecodePrefillTokens > 0)
        {
            work = (work ?? default) with { PrefillTokens = (work?.PrefillTokens ?? 0) + context.DecodePrefillTokens };
        }

        return new InstanceLease(chosen, _outcomes, work);
    }

    // The instance known to hold the prompt's prefix, where it serves this role and may take the request now.
    private static UpstreamInstance? HeldPrefix(in SelectionRequest selection, IBalancingPolicy policy)
    {
        if (selection.Context.PrefixHolder is not { } holder || policy.WeighsKvCache || !selection.IsEligible(holder))
        {
            return null;
        }

        foreach (var instance in selection.Instances)
        {
            if (ReferenceEquals(instance, holder))
            {
                return holder;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public bool HasAvailable(PdRole role)
    {
        var now = _time.GetUtcNow();
        foreach (var instance in _registry.GetInstances(role))
        {
            if (instance.IsAvailable(now))
            {
                return true;
            }
        }

        return false;
    }
}
