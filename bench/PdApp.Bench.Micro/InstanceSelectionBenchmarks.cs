using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Balancing;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Bench.Micro;

/// <summary>Choosing an instance and releasing its lease, per balancing policy and pool size.</summary>
[MemoryDiagnoser]
public class InstanceSelectionBenchmarks
{
    private InstanceSelector? _selector;
    private RoutingContext[] _contexts = [];
    private int _next;

    /// <summary>The policy under test (applied to the prefill role).</summary>
    [Params(BalancingPolicyKind.RoundRobin, BalancingPolicyKind.LeastOutstanding, BalancingPolicyKind.PowerOfTwoChoices, BalancingPolicyKind.PrefixAffinity)]
    public BalancingPolicyKind Policy { get; set; }

    /// <summary>Prefill instances in the pool.</summary>
    [Params(2, 32)]
    public int Instances { get; set; }

    /// <summary>Builds the registry and a rotating set of requests with 16 distinct prompt prefixes.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var registry = new InstanceRegistry(NullLogger<InstanceRegistry>.Instance);
        for (var i = 0; i < Instances; i++)
        {
            registry.AddOrUpdate(new UpstreamInstance($"prefill-{i}", PdRole.Prefill, new Uri($"http://127.0.0.1:{8100 + i}/"), InstanceSource.Configuration));
        }

        var options = Microsoft.Extensions.Options.Options.Create(new BalancingOptions { Prefill = Policy });
        _selector = new InstanceSelector(registry, new IgnoredOutcomes(), options, TimeProvider.System);
        _contexts = [.. Enumerable.Range(0, 256).Select(i => new RoutingContext($"req-{i}", StableHash.PrefixKey($"system prompt {i % 16} " + new string('x', 600), 512)))];
    }

    /// <summary>One selection and release.</summary>
    [Benchmark]
    public string? SelectAndRelease()
    {
        var context = _contexts[_next++ & 255];
        using var lease = _selector!.Select(PdRole.Prefill, context);
        return lease?.Instance.Name;
    }

    private sealed class IgnoredOutcomes : IInstanceOutcomeSink
    {
        public void OnSuccess(UpstreamInstance instance)
        {
        }

        public void OnFailure(UpstreamInstance instance)
        {
        }
    }
}
