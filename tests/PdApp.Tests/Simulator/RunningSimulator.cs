using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Simulator;
using PdApp.Simulator.KvTransfer;

namespace PdApp.Tests.Simulator;

/// <summary>A simulator started in-process on 127.0.0.1 with a dynamic port, and a client for it.</summary>
internal sealed class RunningSimulator : IAsyncDisposable
{
    private RunningSimulator(WebApplication app)
    {
        App = app;
        BaseAddress = SimulatorApp.GetBaseAddress(app);
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IKvConnectorSimulation Connector => App.Services.GetRequiredService<IKvConnectorSimulation>();

    /// <summary>
    /// Starts <c>vllm serve /data/dp7b/ --host 127.0.0.1 --port 0</c> plus <paramref name="extraArgs"/>;
    /// <paramref name="time"/> (a <c>FakeTimeProvider</c>) replaces the clock of every engine timer, and
    /// <paramref name="configure"/> adjusts the builder (e.g. a capturing logger provider).
    /// </summary>
    public static async Task<RunningSimulator> StartAsync(
        IEnumerable<string> extraArgs,
        IDictionary<string, string?>? environment = null,
        TimeProvider? time = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        string[] args = ["serve", "/data/dp7b/", "--host", "127.0.0.1", "--port", "0", "--served-model-name", "dp7b", .. extraArgs];
        var app = SimulatorApp.Create(args, builder =>
        {
            if (environment is not null)
            {
                builder.Configuration.AddInMemoryCollection(environment);
            }

            if (time is not null)
            {
                builder.Services.AddSingleton(time);
            }

            configure?.Invoke(builder);
        });
        await app.StartAsync();
        return new RunningSimulator(app);
    }

    /// <summary>A TCP port free right now on loopback (for flags that cannot take 0).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
