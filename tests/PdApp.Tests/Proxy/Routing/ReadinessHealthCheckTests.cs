using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing;
using PdApp.Tests.Simulator;

namespace PdApp.Tests.Proxy.Routing;

public sealed class ReadinessHealthCheckTests
{
    private static Dictionary<string, string?> Instances(bool prefill, bool decode, bool fallback = false)
    {
        var settings = new Dictionary<string, string?> { ["Pd:Proxy:DecodeOnlyFallback"] = fallback ? "true" : "false" };
        var i = 0;
        if (prefill)
        {
            settings[$"Pd:Instances:{i}:Name"] = "prefill-0";
            settings[$"Pd:Instances:{i}:Role"] = "Prefill";
            settings[$"Pd:Instances:{i++}:Address"] = "http://127.0.0.1:18100";
        }

        if (decode)
        {
            settings[$"Pd:Instances:{i}:Name"] = "decode-0";
            settings[$"Pd:Instances:{i}:Role"] = "Decode";
            settings[$"Pd:Instances:{i}:Address"] = "http://127.0.0.1:18200";
        }

        return settings;
    }

    private static async Task<HealthReportEntry> CheckAsync(RoutingHost host)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Name == PdRoutingServiceCollectionExtensions.InstancesHealthCheckName);
        return report.Entries[PdRoutingServiceCollectionExtensions.InstancesHealthCheckName];
    }

    [Fact]
    public async Task DrainedDecode_RepeatedProbesLogOneLinePerTransition_AndNoErrors()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await RoutingHost.StartAsync(
            Instances(prefill: true, decode: true),
            services => services.AddLogging(builder => builder.AddProvider(logs)));
        var decode = host.Registry.Find("decode-0")!;

        await ProbeAsync(host, times: 2, HttpStatusCode.OK);
        decode.IsDraining = true;
        await ProbeAsync(host, times: 4, HttpStatusCode.ServiceUnavailable);
        decode.IsDraining = false;
        await ProbeAsync(host, times: 3, HttpStatusCode.OK);

        var lines = logs.Logger.Lines.Where(line => line.Message.StartsWith("Proxy ", StringComparison.Ordinal)).ToList();
        Assert.Collection(
            lines,
            line =>
            {
                Assert.Equal(LogLevel.Warning, line.Level);
                Assert.Contains("Proxy not ready", line.Message);
                Assert.Contains("decode-0 drained", line.Message);
            },
            line =>
            {
                Assert.Equal(LogLevel.Information, line.Level);
                Assert.Contains("Proxy ready again", line.Message);
            });
        Assert.DoesNotContain(logs.Logger.Lines, line => line.Level >= LogLevel.Error);
    }

    private static async Task ProbeAsync(RoutingHost host, int times, HttpStatusCode expected)
    {
        for (var i = 0; i < times; i++)
        {
            using var response = await host.Client.GetAsync(HealthEndpoints.HealthPath);
            Assert.Equal(expected, response.StatusCode);
        }
    }

    [Fact]
    public async Task PrefillAndDecodeAvailable_ReadinessIsHealthy()
    {
        await using var host = await RoutingHost.StartAsync(Instances(prefill: true, decode: true));

        using var response = await host.Client.GetAsync(HealthEndpoints.HealthPath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);
    }

    [Fact]
    public async Task NoPrefill_ReadinessIsUnhealthy_NamingPrefill()
    {
        await using var host = await RoutingHost.StartAsync(Instances(prefill: false, decode: true));

        using var response = await host.Client.GetAsync(HealthEndpoints.HealthPath);
        var entry = await CheckAsync(host);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("No ready prefill instance (known: 0 prefill, 1 decode).", entry.Description);
    }

    [Fact]
    public async Task DecodeUnavailable_ReadinessIsUnhealthy_NamingDecode()
    {
        await using var host = await RoutingHost.StartAsync(Instances(prefill: true, decode: true));
        host.Registry.Find("decode-0")!.IsDraining = true;

        var entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("No ready decode instance (known: 1 prefill, 1 decode).", entry.Description);
    }

    [Fact]
    public async Task NothingAvailable_NamesBothRoles()
    {
        await using var host = await RoutingHost.StartAsync(Instances(prefill: false, decode: false));

        var entry = await CheckAsync(host);

        Assert.Equal("No ready prefill or decode instance (known: 0 prefill, 0 decode).", entry.Description);
    }

    [Fact]
    public async Task ActiveChecksOn_EnginesStillLoading_AreNotReady_UntilTheirProbesPass()
    {
        // Engines that are still loading their model answer 503 (or nothing): the proxy must not
        // claim readiness for them, and becomes ready once their /health passes.
        await using var prefill = await HealthToggleServer.StartAsync();
        await using var decode = await HealthToggleServer.StartAsync();
        prefill.Healthy = decode.Healthy = false;
        var settings = Instances(prefill: true, decode: true);
        settings["Pd:Instances:0:Address"] = prefill.BaseAddress.ToString();
        settings["Pd:Instances:1:Address"] = decode.BaseAddress.ToString();
        settings["Pd:Proxy:Health:Enabled"] = "true";
        settings["Pd:Proxy:Health:IntervalSeconds"] = "1";
        await using var host = await RoutingHost.StartAsync(settings);

        var loading = await CheckAsync(host);
        Assert.Equal(HealthStatus.Unhealthy, loading.Status);
        Assert.Equal("No ready prefill or decode instance (known: 1 prefill, 1 decode).", loading.Description);

        prefill.Healthy = decode.Healthy = true;

        Assert.True(await Eventually.TrueAsync(
            () => CheckAsync(host).GetAwaiter().GetResult().Status == HealthStatus.Healthy, TimeSpan.FromSeconds(10)));
        using var response = await host.Client.GetAsync(HealthEndpoints.HealthPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DecodeOnlyFallback_ReadyWithoutPrefill()
    {
        await using var host = await RoutingHost.StartAsync(Instances(prefill: false, decode: true, fallback: true));

        var entry = await CheckAsync(host);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Contains("decode-only fallback", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstancesCheck_IsNotPartOfLiveness()
    {
        await using var host = await RoutingHost.StartAsync(Instances(prefill: false, decode: false));
        var registration = host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations
            .Single(r => r.Name == PdRoutingServiceCollectionExtensions.InstancesHealthCheckName);

        Assert.DoesNotContain(HealthEndpoints.LiveTag, registration.Tags);
        Assert.False(host.Selector.HasAvailable(PdRole.Decode));
    }

    [Fact]
    public async Task CheckThatFails_LogsItsExceptionItself_AsTheHealthCheckServicesCategoryIsCapped()
    {
        var registry = new InstanceRegistry(Microsoft.Extensions.Logging.Abstractions.NullLogger<InstanceRegistry>.Instance);
        registry.AddOrUpdate(new UpstreamInstance("decode-0", PdRole.Decode, new Uri("http://127.0.0.1:1/"), InstanceSource.Configuration));
        var logger = new PdApp.Tests.Observability.Infrastructure.CapturingLogger();
        var check = new PdApp.Proxy.Routing.Health.PdInstancesHealthCheck(
            registry,
            new FailingClock(),
            Options.Create(new PdApp.Proxy.Routing.Options.ReadinessOptions()),
            Options.Create(new PdApp.Proxy.Routing.Options.ActiveHealthCheckOptions()),
            new ForwardingLogger<PdApp.Proxy.Routing.Health.PdInstancesHealthCheck>(logger));

        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.IsType<InvalidOperationException>(result.Exception);
        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Equal("Proxy readiness check failed", line.Message);
    }

    private sealed class FailingClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => throw new InvalidOperationException("clock broken");
    }

    private sealed class ForwardingLogger<T>(ILogger inner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
