using Microsoft.Extensions.Logging.Abstractions;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Balancing;
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
    private readonly InstanceRegistry _registry = new(NullLogger<InstanceRegistry>.Instance);

    [Fact]
    public void DecodeHoldingThePrompt_GetsItAlone()
    {
        var (routing, index) = Create();
        var prompt = Prompt(3).Append(1).ToArray();
        index.Apply("d0", Stored(Prompt(3)));
        index.Apply("d1", Stored(Prompt(2)));

        Assert.True(routing.TrySkipPrefill(Keyed(prompt), belowUncachedTokens: 6, maxDecodeBacklogTokens: 0, _clock.GetUtcNow(), out var decodeRouting));

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
            Keyed(prompt) with { Exclude = new HashSet<UpstreamInstance> { _decode0 } }, belowUncachedTokens: 6, maxDecodeBacklogTokens: 0, _clock.GetUtcNow(), out var decodeRouting));

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
            Keyed(prompt) with { Exclude = new HashSet<UpstreamInstance> { _decode0 } }, belowUncachedTokens: 6, maxDecodeBacklogTokens: 0, _clock.GetUtcNow(), out _));
    }

    [Fact]
    public void HolderPrefillingMoreThanTheBacklogBound_Prefills_AndFreeAgainOnceItsCallsEnd()
    {
        var (routing, index) = Create();
        var prompt = Prompt(3).Append(1).ToArray();
        index.Apply("d0", Stored(Prompt(3)));
        var tracker = new PdApp.Proxy.Routing.Health.PassiveHealthTracker(
            Microsoft.Extensions.Options.Options.Create(new EjectionOptions()), _clock, NullLogger<PdApp.Proxy.Routing.Health.PassiveHealthTracker>.Instance);
        var selector = new InstanceSelector(_registry, tracker, Microsoft.Extensions.Options.Options.Create(new BalancingOptions()), _clock, new Random(1));

        // The first decode-alone call charges its uncached remainder to the holder while it runs.
        Assert.True(routing.TrySkipPrefill(Keyed(prompt), belowUncachedTokens: 6, maxDecodeBacklogTokens: 2, _clock.GetUtcNow(), out var first));
        Assert.Equal(1, first.DecodePrefillTokens);
        using (var lease = selector.Select(PdRole.Decode, first))
        {
            Assert.Same(_decode0, lease!.Instance);
            Assert.Equal(1, _decode0.PendingPrefillTokens);
            Assert.True(routing.TrySkipPrefill(Keyed(prompt), belowUncachedTokens: 6, maxDecodeBacklogTokens: 2, _clock.GetUtcNow(), out var second));
            using var secondLease = selector.Select(PdRole.Decode, second);

            // A third would put 3 tokens of prompt work on a holder bounded at 2: P prefills it.
            Assert.False(routing.TrySkipPrefill(Keyed(prompt), belowUncachedTokens: 6, maxDecodeBacklogTokens: 2, _clock.GetUtcNow(), out _));
            Assert.True(routing.TrySkipPrefill(Keyed(prompt), belowUncachedTokens: 6, maxDecodeBacklogTokens: 0, _clock.GetUtcNow(), out _));
        }

        Assert.Equal(0, _decode0.PendingPrefillTokens);
        Assert.True(routing.TrySkipPrefill(Keyed(prompt), belowUncachedTokens: 6, maxDecodeBacklogTokens: 2, _clock.GetUtcNow(), out _));
    }

    private static RoutingContext Keyed(int[] prompt) =>
        new("r", null) { KvBlockKeys = Keys(prompt), KvPromptTokens = prompt.Length };

    private (KvCacheRouting Routing, KvBlockIndex Index) Create()
    {
        var options = Options();
        var index = new KvBlockIndex(Microsoft.Extensions.Options.Options.Create(options), _clock);
        var services = Services(index, options);
        var registry = _registry;
        registry.AddOrUpdate(_decode0);
        registry.AddOrUpdate(_decode1);
        var tokenizer = new EngineTokenizer(Microsoft.Extensions.Options.Options.Create(options), services.Meter, NullLogger<EngineTokenizer>.Instance);
        return (new KvCacheRouting(services, tokenizer, registry, Microsoft.Extensions.Options.Options.Create(new BalancingOptions())), index);
    }
}
