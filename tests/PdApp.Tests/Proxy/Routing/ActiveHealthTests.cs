using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Health;
using PdApp.Proxy.Routing.Options;
using PdApp.Tests.Simulator;

namespace PdApp.Tests.Proxy.Routing;

public sealed class ActiveHealthTests
{
    [Fact]
    public async Task InstanceAddedAtRunTime_IsProbedAtOnce()
    {
        await using var server = await HealthToggleServer.StartAsync();
        server.Healthy = false;
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>
        {
            ["Pd:Proxy:Health:Enabled"] = "true",
            ["Pd:Proxy:Health:IntervalSeconds"] = "3600",
        });
        var instance = new UpstreamInstance("decode-7", PdRole.Decode, server.BaseAddress, InstanceSource.Admin);

        host.Registry.AddOrUpdate(instance);

        // The next probe round is an hour away: only the new-instance probe can see the failure.
        Assert.True(await Eventually.TrueAsync(() => !instance.IsHealthy));
        Assert.InRange(server.Probes, 1, 2);
    }

    private static (InstanceRegistry Registry, ActiveHealthChecker Checker) CreateChecker(double timeoutSeconds = 2, int threshold = 2)
    {
        var registry = new InstanceRegistry(NullLogger<InstanceRegistry>.Instance);
        var checker = new ActiveHealthChecker(
            registry,
            Options.Create(new ActiveHealthCheckOptions { TimeoutSeconds = timeoutSeconds, UnhealthyThreshold = threshold }),
            TimeProvider.System,
            NullLogger<ActiveHealthChecker>.Instance);
        return (registry, checker);
    }

    [Fact]
    public async Task FailingProbes_MarkUnhealthyAtTheThreshold_AndOneSuccessRecovers()
    {
        await using var server = await HealthToggleServer.StartAsync();
        var (registry, checker) = CreateChecker(threshold: 2);
        using var _ = checker;
        var instance = new UpstreamInstance("prefill-0", PdRole.Prefill, server.BaseAddress, InstanceSource.Configuration);
        registry.AddOrUpdate(instance);

        await checker.ProbeAllAsync(CancellationToken.None);
        Assert.True(instance.IsHealthy);

        server.Healthy = false;
        await checker.ProbeAllAsync(CancellationToken.None);
        Assert.True(instance.IsHealthy);
        await checker.ProbeAllAsync(CancellationToken.None);
        Assert.False(instance.IsHealthy);

        server.Healthy = true;
        await checker.ProbeAllAsync(CancellationToken.None);
        Assert.True(instance.IsHealthy);
        Assert.Equal(4, server.Probes);
    }

    [Fact]
    public async Task SeveralFailingProbes_LogOneLinePerTransition()
    {
        await using var server = await HealthToggleServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var registry = new InstanceRegistry(NullLogger<InstanceRegistry>.Instance);
        using var checker = new ActiveHealthChecker(
            registry,
            Options.Create(new ActiveHealthCheckOptions { TimeoutSeconds = 2, UnhealthyThreshold = 2 }),
            TimeProvider.System,
            factory.CreateLogger<ActiveHealthChecker>());
        registry.AddOrUpdate(new UpstreamInstance("decode-0", PdRole.Decode, server.BaseAddress, InstanceSource.Configuration));
        await checker.ProbeAllAsync(CancellationToken.None);

        server.Healthy = false;
        for (var i = 0; i < 5; i++)
        {
            await checker.ProbeAllAsync(CancellationToken.None);
        }

        server.Healthy = true;
        for (var i = 0; i < 3; i++)
        {
            await checker.ProbeAllAsync(CancellationToken.None);
        }

        var lines = logs.Logger.Lines.Where(line => line.Message.Contains("decode-0", StringComparison.Ordinal)).ToList();
        Assert.Collection(
            lines,
            line =>
            {
                Assert.Equal(LogLevel.Warning, line.Level);
                Assert.Contains("unhealthy after 2 failed probe(s): HTTP 503", line.Message);
            },
            line =>
            {
                Assert.Equal(LogLevel.Information, line.Level);
                Assert.Contains("healthy again", line.Message);
            });
        Assert.DoesNotContain(logs.Logger.Lines, line => line.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task InstanceThatNeverPassed_IsUnhealthyOnItsFirstFailure()
    {
        await using var server = await HealthToggleServer.StartAsync();
        server.Healthy = false;
        var (registry, checker) = CreateChecker(threshold: 3);
        using var _ = checker;
        var instance = new UpstreamInstance("decode-0", PdRole.Decode, server.BaseAddress, InstanceSource.Configuration);
        registry.AddOrUpdate(instance);

        await checker.ProbeAllAsync(CancellationToken.None);

        Assert.False(instance.IsHealthy);
    }

    [Fact]
    public async Task ProbeSlowerThanTheTimeout_CountsAsFailure()
    {
        await using var server = await HealthToggleServer.StartAsync();
        server.Delay = TimeSpan.FromSeconds(5);
        var (registry, checker) = CreateChecker(timeoutSeconds: 0.2, threshold: 1);
        using var _ = checker;
        var instance = new UpstreamInstance("decode-0", PdRole.Decode, server.BaseAddress, InstanceSource.Configuration);
        registry.AddOrUpdate(instance);

        var started = DateTime.UtcNow;
        await checker.ProbeAllAsync(CancellationToken.None);

        Assert.False(instance.IsHealthy);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task RunningProxy_EjectsAnInstanceWhoseHealthFails_AndTakesItBack()
    {
        await using var prefill = await HealthToggleServer.StartAsync();
        await using var decode = await HealthToggleServer.StartAsync();
        await using var host = await RoutingHost.StartAsync(new Dictionary<string, string?>
        {
            ["Pd:Proxy:Health:Enabled"] = "true",
            ["Pd:Proxy:Health:IntervalSeconds"] = "0.05",
            ["Pd:Proxy:Health:UnhealthyThreshold"] = "2",
            ["Pd:Instances:0:Name"] = "prefill-0",
            ["Pd:Instances:0:Role"] = "Prefill",
            ["Pd:Instances:0:Address"] = prefill.BaseAddress.ToString(),
            ["Pd:Instances:1:Name"] = "decode-0",
            ["Pd:Instances:1:Role"] = "Decode",
            ["Pd:Instances:1:Address"] = decode.BaseAddress.ToString(),
        });
        Assert.True(await Eventually.TrueAsync(() => prefill.Probes > 0 && decode.Probes > 0));

        decode.Healthy = false;
        Assert.True(await Eventually.TrueAsync(() => !host.Selector.HasAvailable(PdRole.Decode)));
        using (var response = await host.Client.GetAsync(HealthEndpoints.HealthPath))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        decode.Healthy = true;
        Assert.True(await Eventually.TrueAsync(() => host.Selector.HasAvailable(PdRole.Decode)));
        using (var response = await host.Client.GetAsync(HealthEndpoints.HealthPath))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
    }
}
