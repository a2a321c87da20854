using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using PdApp.Protocol;
using PdApp.Proxy;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Observability;

/// <summary>
/// What the proxy's OpenTelemetry SDK (the one <c>AddServiceDefaults</c> configures and the dashboard
/// receives over OTLP) exports: the PD spans are registered, probes are not traced. (<c>/metrics</c> comes from
/// the lean exporter whether or not this SDK runs: <see cref="ProxyTelemetryTests"/>.)
/// </summary>
public sealed class OpenTelemetryExportTests
{
    [Fact]
    public async Task ProxySdk_ExportsPdSpansButNoProbeSpans()
    {
        await using var prefill = await SimulatorInstance.StartAsync("prefill-0");
        await using var decode = await SimulatorInstance.StartAsync("decode-0");
        var app = ProxyApp.Create(
        [
            "--urls=http://127.0.0.1:0",
            $"--{PdProxySettings.Connector}={KvConnectorNames.SharedStorage}",
            "--Logging:LogLevel:Default=Warning",
            "--Pd:Proxy:Health:Enabled=false",
            "--Pd:Proxy:ShutdownDrainDelaySeconds=0",

            // As the app host sets it: spans are built only for an exporter (nothing listens there).
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={Upstream.Dead("otlp").Address}",
            $"--{PdProxySettings.Instances}:0:Name=prefill-0",
            $"--{PdProxySettings.Instances}:0:Role=Prefill",
            $"--{PdProxySettings.Instances}:0:Address={prefill.BaseAddress}",
            $"--{PdProxySettings.Instances}:1:Name=decode-0",
            $"--{PdProxySettings.Instances}:1:Role=Decode",
            $"--{PdProxySettings.Instances}:1:Address={decode.BaseAddress}",
        ]);

        // The tracer provider AddServiceDefaults built: what it exports is what the dashboard gets.
        var spans = new List<Activity>();
        app.Services.GetRequiredService<TracerProvider>().AddProcessor(new SimpleActivityExportProcessor(new InMemoryExporter<Activity>(spans)));
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            using var completion = await client.PostAsync(
                "/v1/completions", new StringContent(Bodies.Completion(maxTokens: 5, stream: true), System.Text.Encoding.UTF8, "application/json"));
            await completion.Content.ReadAsStringAsync();
            (await client.GetAsync("/health")).Dispose();
            (await client.GetAsync("/metrics")).Dispose();

            app.Services.GetRequiredService<TracerProvider>().ForceFlush();

            List<Activity> exported;
            lock (spans)
            {
                exported = [.. spans];
            }

            Assert.Contains(exported, s => s.Source.Name == ProxyTracing.SourceName && s.OperationName == ProxyTracing.PrefillSpan);
            Assert.Contains(exported, s => s.Source.Name == ProxyTracing.SourceName && s.OperationName == ProxyTracing.DecodeSpan);
            Assert.Contains(exported, s => s.Kind == ActivityKind.Server && Equals(s.GetTagItem("url.path"), "/v1/completions"));
            Assert.DoesNotContain(exported, s => s.Kind == ActivityKind.Server && s.GetTagItem("url.path") is "/health" or "/metrics");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
