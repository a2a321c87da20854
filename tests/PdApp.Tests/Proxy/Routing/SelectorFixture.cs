using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Balancing;
using PdApp.Proxy.Routing.Health;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Tests.Proxy.Routing;

/// <summary>A registry and selector wired as in the proxy, on a manual clock and a seeded random.</summary>
internal sealed class SelectorFixture
{
    public SelectorFixture(BalancingPolicyKind prefill, BalancingPolicyKind decode = BalancingPolicyKind.LeastOutstanding, Action<BalancingOptions>? configure = null, EjectionOptions? ejection = null)
    {
        var options = new BalancingOptions { Prefill = prefill, Decode = decode };
        configure?.Invoke(options);
        PrefixLength = options.PrefixLength;
        Registry = new InstanceRegistry(NullLogger<InstanceRegistry>.Instance);
        Tracker = new PassiveHealthTracker(Options.Create(ejection ?? new EjectionOptions()), Clock, NullLogger<PassiveHealthTracker>.Instance);
        Selector = new InstanceSelector(Registry, Tracker, Options.Create(options), Clock, new Random(1234));
    }

    public ManualClock Clock { get; } = new();

    /// <summary>The characters of a prompt that its affinity key covers (<see cref="BalancingOptions.PrefixLength"/>).</summary>
    public int PrefixLength { get; }

    public InstanceRegistry Registry { get; }

    public PassiveHealthTracker Tracker { get; }

    public InstanceSelector Selector { get; }

    public UpstreamInstance[] Add(PdRole role, int count, string? prefix = null)
    {
        prefix ??= role.ToString().ToLowerInvariant();
        var added = new UpstreamInstance[count];
        for (var i = 0; i < count; i++)
        {
            added[i] = new UpstreamInstance($"{prefix}-{i}", role, new Uri($"http://127.0.0.1:{8100 + i}/"), InstanceSource.Configuration);
            Registry.AddOrUpdate(added[i]);
        }

        return added;
    }

    /// <summary>The affinity key the proxy's parser gives a request whose rendered prompt is <paramref name="prompt"/>.</summary>
    public ulong? Key(string? prompt) => prompt is null ? null : StableHash.PrefixKey(prompt, PrefixLength);

    /// <summary>Selects and immediately releases, returning the chosen instance's name.</summary>
    public string? Pick(PdRole role, string? prompt = null, IReadOnlySet<UpstreamInstance>? exclude = null)
    {
        using var lease = Selector.Select(role, new RoutingContext("req", Key(prompt), exclude));
        return lease?.Instance.Name;
    }
}
