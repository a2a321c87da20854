using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using PdApp.Proxy.Routing.Load;
using PdApp.Simulator;

namespace PdApp.Tests.Proxy.Infrastructure;

/// <summary>An in-process vLLM simulator on 127.0.0.1 with a free port.</summary>
public sealed class SimulatorInstance : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SimulatorInstance(WebApplication app, string name, Uri baseAddress)
    {
        _app = app;
        Name = name;
        BaseAddress = baseAddress;
    }

    /// <summary>The instance name (<c>X-PdSim-Instance</c>).</summary>
    public string Name { get; }

    /// <summary>Where it listens.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The simulator's services (e.g. its KV events publisher).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a simulator serving <see cref="ProxyFixture.Model"/> with fast default timings.</summary>
    /// <param name="name">Instance name.</param>
    /// <param name="extraArgs">More <c>vllm serve</c> flags.</param>
    /// <param name="configure">Configuration such as <c>VLLM_NIXL_SIDE_CHANNEL_PORT</c>.</param>
    /// <returns>The started instance.</returns>
    public static async Task<SimulatorInstance> StartAsync(string name, IEnumerable<string>? extraArgs = null, IDictionary<string, string?>? configure = null)
    {
        string[] args =
        [
            "serve", ProxyFixture.Model, "--host", "127.0.0.1", "--port", "0", "--instance-name", name,
            "--time-to-first-token", "5", "--inter-token-latency", "2", "--prefill-time-per-token", "0.01",
            .. extraArgs ?? [],
        ];
        var app = SimulatorApp.Create(args, builder =>
        {
            builder.Configuration["Logging:LogLevel:Default"] = "Warning";
            if (configure is not null)
            {
                builder.Configuration.AddInMemoryCollection(configure);
            }
        });
        await app.StartAsync();
        return new SimulatorInstance(app, name, SimulatorApp.GetBaseAddress(app));
    }

    /// <summary>Reads a gauge or counter from the simulator's <c>/metrics</c>.</summary>
    /// <param name="metric">E.g. <c>vllm:num_requests_running</c>.</param>
    /// <returns>The value (summed over label sets).</returns>
    public async Task<double> ReadMetricAsync(string metric)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress };
        var text = await client.GetStringAsync("/metrics");

        // The proxy's own Prometheus parser, the one its load scraper uses on real vLLM pages.
        return PrometheusTextParser.Parse(text).Samples.Where(s => s.Name == metric).Sum(s => s.Value);
    }

    /// <summary>Waits until <paramref name="metric"/> reads <paramref name="expected"/>.</summary>
    /// <param name="metric">The metric.</param>
    /// <param name="expected">The value.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The last value read.</returns>
    public async Task<double> WaitForMetricAsync(string metric, double expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        double value;
        while ((value = await ReadMetricAsync(metric)) != expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return value;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2));
        await _app.DisposeAsync();
    }
}
