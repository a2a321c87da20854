using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using PdApp.Protocol;
using PdApp.Proxy;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>
/// What the proxy does not build when nothing needs it (bench/RESULTS.md 4.14): each of these loaded
/// code and data into every proxy process for no user.
/// </summary>
public sealed class ProxyFootprintTests
{
    [Fact]
    public async Task BearerKeyScheme_NeedsNoDataProtectionKeyRing()
    {
        // Data protection's hosted service would read, or create and write, a key ring under
        // ~/.aspnet at start-up (XML, cryptography, OpenSSL); the bearer-key scheme encrypts nothing.
        await using var app = ProxyApp.Create([.. Settings(), $"--{PdProxySettings.ApiKey}=client-secret"]);

        Assert.Null(app.Services.GetService<IDataProtectionProvider>());
        Assert.DoesNotContain(app.Services.GetServices<IHostedService>(), s => s.GetType().Namespace?.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task WithoutOtlpEndpoint_NoOpenTelemetryLogger_WithOne_OpenTelemetryLogger()
    {
        // Without an exporter an OpenTelemetry logger would copy every log record for nobody.
        await using var without = ProxyApp.Create(Settings());
        await using var with = ProxyApp.Create([.. Settings(), $"--OTEL_EXPORTER_OTLP_ENDPOINT={Upstream.Dead("otlp").Address}"]);

        Assert.DoesNotContain(without.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
        Assert.Contains(with.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
    }

    [Theory]
    [InlineData(null, null, false, false)]
    [InlineData(KvConnectorNames.P2pNccl, null, true, false)]
    [InlineData(KvConnectorNames.LMCacheV1, null, false, true)]
    [InlineData(null, "Pd:Registry:Port=0", true, false)]
    [InlineData(null, "Pd:LMCache:NotificationPort=0", false, true)]
    public async Task ZeroMqServices_AreBuiltOnlyWhenAConnectorOrAPortAsksForThem(string? connector, string? setting, bool registry, bool listener)
    {
        // Their base type is generic over a NetMQ socket: building them loads NetMQ into every proxy.
        string[] args = [.. Settings(), .. connector is null ? Array.Empty<string>() : [$"--{PdProxySettings.Connector}={connector}"], .. setting is null ? Array.Empty<string>() : ["--" + setting]];
        await using var app = ProxyApp.Create(args);

        var hosted = app.Services.GetServices<IHostedService>().ToList();
        Assert.Equal(registry, hosted.OfType<PdApp.Proxy.Routing.P2pNccl.P2pNcclRegistryService>().Any());
        Assert.Equal(listener, hosted.OfType<PdApp.Proxy.Pipeline.Flows.LMCache.KvReadyListener>().Any());
        Assert.Equal(registry, app.Services.GetService<PdApp.Proxy.Routing.P2pNccl.P2pNcclRegistryService>() is not null);
    }

    [Fact]
    public async Task WithoutOtlpEndpoint_NoOpenTelemetryMetricsSdk_WithOne_MeterProviderForOtlp()
    {
        // /metrics comes from the lean exporter either way; OpenTelemetry's SDK (its up-front data points per
        // metric stream, bench/RESULTS.md 4.19) is built only to export over OTLP.
        await using var without = ProxyApp.Create(Settings());
        await using var with = ProxyApp.Create([.. Settings(), $"--OTEL_EXPORTER_OTLP_ENDPOINT={Upstream.Dead("otlp").Address}"]);

        Assert.Null(without.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        Assert.NotNull(with.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        Assert.NotNull(without.Services.GetService<PdApp.ServiceDefaults.Metrics.PrometheusMetricsCollector>());
    }

    private static string[] Settings() => StandaloneProxySettings.Create();
}
