using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Routing;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>
/// The move's rehearsal runs where a request can move: at start-up with two decode instances, and only
/// once a second one joins where the proxy started with one (no request can move before that).
/// </summary>
public sealed class MigrationWarmUpTests
{
    [Fact]
    public async Task TwoDecodeInstances_RehearsesAtStartUp()
    {
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0")], [Upstream.Dead("decode-0"), Upstream.Dead("decode-1")]);

        var warmUp = WarmUpOf(proxy);

        // The registry may be filled after the hosted services start: the rehearsal then runs on the pool.
        Assert.True(await Eventually.TrueAsync(() => warmUp.Started));
        Assert.True(await Eventually.TrueAsync(() => warmUp.Precompiled.IsCompletedSuccessfully && warmUp.Precompiled.Result > 0, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task OneDecodeInstance_RehearsesOnlyOnceASecondJoins()
    {
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0")], [Upstream.Dead("decode-0")]);
        var warmUp = WarmUpOf(proxy);
        Assert.False(warmUp.Started);

        proxy.Services.GetRequiredService<IInstanceRegistry>().AddOrUpdate(
            new UpstreamInstance("decode-1", PdRole.Decode, new Uri("http://127.0.0.1:9/"), InstanceSource.Admin));

        Assert.True(await Eventually.TrueAsync(() => warmUp.Started));
        Assert.True(await Eventually.TrueAsync(() => warmUp.Precompiled.IsCompletedSuccessfully && warmUp.Precompiled.Result > 0, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task MigrationOff_NeverRehearses()
    {
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Dead("prefill-0")],
            [Upstream.Dead("decode-0"), Upstream.Dead("decode-1")],
            ["Pd:Proxy:Migration:MaxAttempts=0"]);

        Assert.False(WarmUpOf(proxy).Started);
    }

    private static MigrationWarmUp WarmUpOf(ProxyFixture proxy) =>
        proxy.Services.GetServices<IHostedService>().OfType<MigrationWarmUp>().Single();
}
