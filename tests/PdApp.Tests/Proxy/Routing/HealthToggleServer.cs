using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PdApp.Tests.Proxy.Routing;

/// <summary>
/// A tiny real Kestrel server on 127.0.0.1:0 standing in for a vLLM instance's <c>/health</c>:
/// 200 while healthy, 503 (as vLLM after its engine died) otherwise, optionally slow.
/// </summary>
internal sealed class HealthToggleServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile bool _healthy = true;
    private int _probes;

    private HealthToggleServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public TimeSpan Delay { get; set; }

    public int Probes => Volatile.Read(ref _probes);

    public static async Task<HealthToggleServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new HealthToggleServer(app);
        app.MapGet("/health", async (HttpContext context) =>
        {
            Interlocked.Increment(ref server._probes);
            if (server.Delay > TimeSpan.Zero)
            {
                await Task.Delay(server.Delay, context.RequestAborted);
            }

            context.Response.StatusCode = server._healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
