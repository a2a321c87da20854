using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PdApp.Protocol;
using PdApp.Proxy;
using PdApp.Proxy.Observability.Metrics;

namespace PdApp.Tests.Proxy.Infrastructure;

/// <summary>
/// The proxy on real Kestrel (127.0.0.1, free port) in front of in-process simulators; each test
/// builds its own topology so nothing is shared between tests.
/// </summary>
public sealed class ProxyFixture : IAsyncDisposable
{
    /// <summary>The model every simulator serves (the seed's path-style name).</summary>
    public const string Model = "/data/dp7b/";

    private readonly WebApplication _app;
    private readonly List<SimulatorInstance> _instances;

    private ProxyFixture(WebApplication app, Uri baseAddress, List<SimulatorInstance> instances)
    {
        _app = app;
        BaseAddress = baseAddress;
        _instances = instances;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Metrics = new MetricsRecorder(app.Services.GetRequiredService<ProxyMeter>().Meter);
    }

    /// <summary>The proxy's address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for the proxy.</summary>
    public HttpClient Client { get; }

    /// <summary>The proxy's <c>pdapp.proxy</c> measurements.</summary>
    public MetricsRecorder Metrics { get; }

    /// <summary>The proxy's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the proxy.</summary>
    /// <param name="connector">Pd:Connector.</param>
    /// <param name="prefill">Prefill instances (started simulators) or dead addresses.</param>
    /// <param name="decode">Decode instances.</param>
    /// <param name="settings">More configuration (<c>Key=Value</c>).</param>
    /// <returns>The started fixture; it disposes the simulators too.</returns>
    public static async Task<ProxyFixture> StartAsync(
        string connector,
        IReadOnlyList<Upstream> prefill,
        IReadOnlyList<Upstream> decode,
        IEnumerable<string>? settings = null)
    {
        var args = new List<string>
        {
            "--urls=http://127.0.0.1:0",
            $"--{PdProxySettings.Connector}={connector}",
            "--Logging:LogLevel:Default=Warning",
            // Active probing would race the tests' own failure injection.
            "--Pd:Proxy:Health:Enabled=false",

            // Tests stop proxies all the time; a test that needs the drain delay sets it (later settings win).
            "--Pd:Proxy:ShutdownDrainDelaySeconds=0",
        };
        var index = 0;
        foreach (var (role, upstreams) in new[] { ("Prefill", prefill), ("Decode", decode) })
        {
            foreach (var upstream in upstreams)
            {
                args.Add($"--{PdProxySettings.Instances}:{index}:Name={upstream.Name}");
                args.Add($"--{PdProxySettings.Instances}:{index}:Role={role}");
                args.Add($"--{PdProxySettings.Instances}:{index}:Address={upstream.Address}");
                if (upstream.KvAddress is not null)
                {
                    args.Add($"--{PdProxySettings.Instances}:{index}:KvAddress={upstream.KvAddress}");
                }

                index++;
            }
        }

        args.AddRange((settings ?? []).Select(s => "--" + s));
        var app = ProxyApp.Create([.. args]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var instances = prefill.Concat(decode).Select(u => u.Simulator).OfType<SimulatorInstance>().ToList();
        return new ProxyFixture(app, new Uri(address), instances);
    }

    /// <summary>Posts JSON to the proxy.</summary>
    /// <param name="path">The route.</param>
    /// <param name="json">The body.</param>
    /// <param name="configure">Extra request settings (headers).</param>
    /// <param name="completion">When the call returns.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The response.</returns>
    public Task<HttpResponseMessage> PostAsync(
        string path,
        string json,
        Action<HttpRequestMessage>? configure = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, new MediaTypeHeaderValue("application/json")),
        };
        configure?.Invoke(request);
        return Client.SendAsync(request, completion, cancellationToken);
    }

    /// <summary>Stops the proxy as a host shutdown does (SIGTERM): stop accepting, drain in-flight requests.</summary>
    /// <returns>A task that completes when the proxy has stopped.</returns>
    public Task StopProxyAsync() => _app.StopAsync();

    /// <summary>Stops the proxy and its simulators.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Metrics.Dispose();
        await _app.StopAsync(TimeSpan.FromSeconds(2));
        await _app.DisposeAsync();
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }
    }
}

/// <summary>An upstream the proxy is configured with: a simulator or a bare address.</summary>
/// <param name="Name">The instance name.</param>
/// <param name="Address">Its base address.</param>
/// <param name="Simulator">The simulator behind it, if any (disposed with the fixture).</param>
/// <param name="KvAddress">Its KV address (P2pNccl).</param>
public sealed record Upstream(string Name, Uri Address, SimulatorInstance? Simulator = null, string? KvAddress = null)
{
    /// <summary>An address where nothing listens (connection refused at once).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The upstream.</returns>
    public static Upstream Dead(string name) => new(name, new Uri($"http://127.0.0.1:{ClosedPort.Value}/"));

    /// <summary>A started simulator.</summary>
    /// <param name="simulator">The simulator.</param>
    /// <param name="kvAddress">Its KV address.</param>
    /// <returns>The upstream.</returns>
    public static Upstream Of(SimulatorInstance simulator, string? kvAddress = null) =>
        new(simulator.Name, simulator.BaseAddress, simulator, kvAddress);

    private static readonly Lazy<int> ClosedPort = new(() =>
    {
        // Bind, read the port, release: nothing listens there afterwards.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    });
}
