using Microsoft.Extensions.DependencyInjection;
using PdApp.Hosting.Topology;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Proxy.Disaggregation;
using PdApp.Proxy.Routing.Options;
using PdApp.Simulator;
using PdApp.Simulator.KvTransfer;
using HostingOptions = PdApp.Hosting.Topology.PdOptions;
using ProxyOptions = PdApp.Proxy.Options.PdOptions;

namespace PdApp.Tests.Protocol;

/// <summary>
/// The connector catalog is complete, and every project implements every entry: adding a connector
/// to <see cref="KvConnectorKind"/> fails here until the app host's planner, the proxy's flow
/// resolver and the simulator's connector factory all handle it.
/// </summary>
public sealed class ConnectorCatalogTests
{
    public static TheoryData<KvConnectorKind> Kinds() => [.. Enum.GetValues<KvConnectorKind>()];

    private static IReadOnlyList<string> MultiChildren { get; } =
        [.. ConnectorCatalog.All.Where(c => c.CanBeMultiChild).Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryKind_HasOneEntryFoundByItsName(KvConnectorKind kind)
    {
        var traits = ConnectorCatalog.Get(kind);

        Assert.Equal(kind, traits.Kind);
        Assert.True(ConnectorCatalog.TryGet(traits.Name, out var byName));
        Assert.Same(traits, byName);
        Assert.Single(ConnectorCatalog.All, t => t.Name == traits.Name);
    }

    [Fact]
    public void Names_AreTheCatalogsInKindOrder_AndMatchExactly()
    {
        Assert.Equal(Enum.GetValues<KvConnectorKind>(), ConnectorCatalog.All.Select(t => t.Kind));
        Assert.Equal(ConnectorCatalog.All.Select(t => t.Name), KvConnectorNames.All);
        Assert.False(ConnectorCatalog.TryGet("nixlconnector", out _));
        Assert.False(ConnectorCatalog.TryGet(null, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnectorCatalog.Get((KvConnectorKind)99));
    }

    [Fact]
    public void Traits_SayWhatEachConnectorNeeds()
    {
        var nixl = ConnectorCatalog.Get(KvConnectorKind.Nixl);
        var prefillField = Assert.Single(nixl.PrefillBodyFields);
        Assert.Equal(KvRequestFields.KvTransferParams, prefillField.Name);
        Assert.Contains("\"do_remote_decode\":true", prefillField.Json, StringComparison.Ordinal);
        Assert.Equal([KvRequestFields.KvTransferParams], nixl.DecodeBodyFields);

        var p2p = ConnectorCatalog.Get(KvConnectorKind.P2pNccl);
        Assert.True(p2p is { NeedsRegistry: true, SelectsDecodeFirst: true, DecodeCanPrefillAlone: false, DecodeRetryIsSafe: false });

        var pyNccl = ConnectorCatalog.Get(KvConnectorKind.PyNccl);
        Assert.Equal(KvEngineGeneration.V0, pyNccl.Engine);
        Assert.False(pyNccl.CanBeMultiChild);
        Assert.Equal(KvEngineImage.GuidePyNccl, pyNccl.DefaultImage);
        Assert.Equal(KvEngineImage.LMCache, ConnectorCatalog.Get(KvConnectorKind.LMCacheV1).DefaultImage);
        Assert.False(ConnectorCatalog.Get(KvConnectorKind.Multi).CanBeMultiChild);
    }

    [Fact]
    public void MultiConnector_ResolvesToWhatItsChildrenImposeTogether()
    {
        Assert.True(ConnectorCatalog.TryResolve(KvConnectorNames.Multi, [KvConnectorNames.SharedStorage, KvConnectorNames.P2pNccl], out var multi));

        Assert.Equal([KvConnectorKind.SharedStorage, KvConnectorKind.P2pNccl], multi.Effective.Select(t => t.Kind));
        Assert.True(multi.NeedsRegistry);
        Assert.True(multi.SelectsDecodeFirst);
        Assert.False(multi.DecodeCanPrefillAlone);
        Assert.True(multi.Uses(KvConnectorKind.P2pNccl));
        Assert.False(ConnectorCatalog.TryResolve(KvConnectorNames.Multi, [], out _));
        Assert.False(ConnectorCatalog.TryResolve(KvConnectorNames.Multi, [KvConnectorNames.Multi], out _));
        Assert.False(ConnectorCatalog.TryResolve(KvConnectorNames.Multi, ["Unknown"], out _));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void HostingPlanner_GivesEveryInstanceTheConnector(KvConnectorKind kind)
    {
        var plan = Plan(kind);

        Assert.All(plan.Instances, i => Assert.Equal(kind, i.KvConnector!.Kind));
        Assert.Equal(ConnectorCatalog.Get(kind).Name, plan.Instances[0].KvConnector!.ToKvTransferConfig().KvConnector);
        Assert.Equal(kind is KvConnectorKind.P2pNccl or KvConnectorKind.Multi, plan.NeedsRegistry);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ProxyFlowResolver_HandlesEveryKindAsItsTraitsSay(KvConnectorKind kind)
    {
        var traits = ConnectorCatalog.Get(kind);
        var options = new ProxyOptions { Connector = traits.Name, ChildConnectors = traits.IsComposite ? [.. MultiChildren] : [] };
        Assert.True(ConnectorCatalog.TryResolve(options.Connector, options.ChildConnectors, out var resolved));

        var flow = ConnectorFlowResolver.Create(options);

        Assert.Equal(traits.Name, flow.Connector);
        Assert.Equal(resolved.SelectsDecodeFirst, flow.SelectsDecodeBeforePrefill);
        Assert.Equal(new FlowCapabilities(resolved.DecodeCanPrefillAlone, resolved.DecodeRetryIsSafe), flow.Capabilities);
        Assert.Equal(resolved.DecodeCanSkipPrefill, flow.CanSkipPrefill);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task SimulatorFactory_BuildsEveryKindFromThePlannersConfig(KvConnectorKind kind)
    {
        var json = Plan(kind).Instances[0].KvConnector!.ToJson();
        await using var app = SimulatorApp.Create(["serve", "m", "--port", "0", "--kv-transfer-config", json]);

        var connector = app.Services.GetRequiredService<IKvConnectorSimulation>();

        Assert.Equal(ConnectorCatalog.Get(kind).Name, connector.Name);
    }

    [Theory]
    [InlineData(KvConnectorNames.P2pNccl, new string[0], true)]
    [InlineData(KvConnectorNames.Multi, new[] { KvConnectorNames.SharedStorage, KvConnectorNames.P2pNccl }, true)]
    [InlineData(KvConnectorNames.Multi, new[] { KvConnectorNames.SharedStorage, KvConnectorNames.Nixl }, false)]
    [InlineData(KvConnectorNames.Nixl, new string[0], false)]
    public void ProxyRegistry_RunsWhereThePlannerDeclaresIt(string connector, string[] children, bool enabled)
    {
        var registry = new P2pNcclRegistryOptions();
        P2pNcclRegistryOptions.Configure(registry, connector, children);
        var hosting = new HostingOptions { Connector = connector };
        hosting.Multi.Connectors = [.. children];

        Assert.Equal(enabled, registry.Enabled);
        Assert.Equal(enabled, PdTopologyPlan.Create(hosting, PdBackend.Simulator).NeedsRegistry);
    }

    private static PdTopologyPlan Plan(KvConnectorKind kind)
    {
        var traits = ConnectorCatalog.Get(kind);
        var options = new HostingOptions { Connector = traits.Name };
        if (traits.IsComposite)
        {
            options.Multi.Connectors = [.. MultiChildren];
        }

        return PdTopologyPlan.Create(options, PdBackend.Simulator, Path.GetTempPath());
    }
}
