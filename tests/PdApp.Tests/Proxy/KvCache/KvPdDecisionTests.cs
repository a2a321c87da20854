using Microsoft.Extensions.Logging.Abstractions;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.KvCache;
using PdApp.Proxy.Routing.Options;
using PdApp.Tests.Proxy.Routing;
using static PdApp.Tests.Proxy.KvCache.KvIndexTestKit;

namespace PdApp.Tests.Proxy.KvCache;

/// <summary>The cache-aware PD decision (<see cref="KvCacheRouting.TrySkipPrefill"/>) chooses among the eligible decode instances.</summary>
public sealed class KvPdDecisionTests
{
    private readonly ManualClock _clock = new();
    private readonly UpstreamInstance _decode0 = Instance("d0", PdRole.Decode);
    private readonly UpstreamInstance _decode1 = Instance("d1", PdRole.Decode);

    [Fact]
    public void DecodeHoldingThePrompt_GetsItAlone()
    {
        var (routing, index) = Create();
        var prompt = Prompt(3).Append(1).ToArray();
        index.Apply("d0", Stored(Prompt(3)));
        index.Apply("d1", Stored(Prompt(2)));

        Assert.True(routing.TrySkipPrefill(Keyed(prompt), belowUncachedTokens: 6, _clock.GetUtcNow(), out var decodeRouting));

        Assert.Equal(new[] { _decode1 }, decodeRouting.Exclude!.ToArray());
    }

    [Fact]
    public void ExcludedHolder_TheNextHolderGetsIt_NotNobody()
    {
        // A migrated request's failed decode instance (excluded) holds the most of the extended prompt.
        var (routing, index) = Create();
        var prompt = Prompt(3).Append(1).ToArray();
        index.Apply("d0", Stored(Prompt(3)));
        index.Apply("d1", Stored(Prompt(2)));

        Assert.True(routing.TrySkipPrefill(
            Keyed(prompt) with { Exclude = new HashSet<UpstreamInstance> { _decode0 } }, belowUncachedTokens: 6, _clock.GetUtcNow(), out var decodeRouting));

        Assert.Equal(new[] { _decode0 }, decodeRouting.Exclude!.ToArray());
    }

    [Fact]
    public void ExcludedHolder_OthersTooFarBehind_Prefills()
    {
        var (routing, index) = Create();
        var prompt = Prompt(3).Append(1).ToArray();
        index.Apply("d0", Stored(Prompt(3)));
        index.Apply("d1", Stored(Prompt(1)));

        Assert.False(routing.TrySkipPrefill(
            Keyed(prompt) with { Exclude = new HashSet<UpstreamInstance> { _decode0 } }, belowUncachedTokens: 6, _clock.GetUtcNow(), out _));
    }

    private static RoutingContext Keyed(int[] prompt) =>
        new("r", null) { KvBlockKeys = Keys(prompt), KvPromptTokens = prompt.Length };

    private (KvCacheRouting Routing, KvBlockIndex Index) Create()
    {
        var options = Options();
        var index = new KvBlockIndex(Microsoft.Extensions.Options.Options.Create(options), _clock);
        var services = Services(index, options);
        var registry = new InstanceRegistry(NullLogger<InstanceRegistry>.Instance);
        registry.AddOrUpdate(_decode0);
        registry.AddOrUpdate(_decode1);
        var tokenizer = new EngineTokenizer(Microsoft.Extensions.Options.Options.Create(options), services.Meter, NullLogger<EngineTokenizer>.Instance);
        return (new KvCacheRouting(services, tokenizer, registry, Microsoft.Extensions.Options.Options.Create(new BalancingOptions())), index);
    }
}
