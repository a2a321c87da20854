using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using PdApp.Protocol;
using PdApp.Proxy;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Observability;

/// <summary>
/// Spans are built only when something consumes them (an OTLP endpoint), but the W3C trace context
/// reaches the instances either way, so engines that trace still join the caller's trace.
/// </summary>
public sealed class TraceConsumerTests
{
    [Fact]
    public async Task WithoutOtlpEndpoint_NoTracerProvider_WithOne_TracerProvider()
    {
        await using var without = ProxyApp.Create(Settings("127.0.0.1:1", "127.0.0.1:2"));
        await using var with = ProxyApp.Create([.. Settings("127.0.0.1:1", "127.0.0.1:2"), $"--OTEL_EXPORTER_OTLP_ENDPOINT={Upstream.Dead("otlp").Address}"]);

        Assert.Null(without.Services.GetService<TracerProvider>());
        Assert.NotNull(with.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task WithoutOtlpEndpoint_TheClientsTraceparentStillReachesPrefillAndDecode()
    {
        await using var prefill = await HeaderRecorder.StartAsync();
        await using var decode = await HeaderRecorder.StartAsync();
        var app = ProxyApp.Create(Settings(prefill.Address, decode.Address));
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
            const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent(Bodies.Completion(maxTokens: 2, stream: false), System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");

            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains(TraceId, Assert.Single(prefill.TraceParents), StringComparison.Ordinal);
            Assert.Contains(TraceId, Assert.Single(decode.TraceParents), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static string[] Settings(string prefill, string decode) =>
    [
        "--urls=http://127.0.0.1:0",
        $"--{PdProxySettings.Connector}={KvConnectorNames.SharedStorage}",
        "--Logging:LogLevel:Default=Warning",
        "--Pd:Proxy:Health:Enabled=false",
        "--Pd:Proxy:ShutdownDrainDelaySeconds=0",
        "--Pd:Proxy:LoadScrape:Enabled=false",
        $"--{PdProxySettings.Instances}:0:Name=prefill-0",
        $"--{PdProxySettings.Instances}:0:Role=Prefill",
        $"--{PdProxySettings.Instances}:0:Address=http://{prefill}",
        $"--{PdProxySettings.Instances}:1:Name=decode-0",
        $"--{PdProxySettings.Instances}:1:Role=Decode",
        $"--{PdProxySettings.Instances}:1:Address=http://{decode}",
    ];

    /// <summary>An upstream that answers every completion with a small JSON body and keeps the <c>traceparent</c> it got.</summary>
    private sealed class HeaderRecorder : IAsyncDisposable
    {
        private const string Answer =
            """{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"a","finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""";

        private readonly WebApplication _app;

        private HeaderRecorder(WebApplication app, string address)
        {
            _app = app;
            Address = address;
        }

        public string Address { get; }

        public ConcurrentQueue<string> TraceParents { get; } = new();

        public static async Task<HeaderRecorder> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            HeaderRecorder? recorder = null;
            app.MapPost("/v1/completions", (HttpContext context) =>
            {
                recorder!.TraceParents.Enqueue(context.Request.Headers["traceparent"].ToString());
                return Results.Text(Answer, "application/json");
            });
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            recorder = new HeaderRecorder(app, $"{address.Host}:{address.Port}");
            return recorder;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
