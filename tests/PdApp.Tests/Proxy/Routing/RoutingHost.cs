using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdApp.Proxy.Routing;

namespace PdApp.Tests.Proxy.Routing;

/// <summary>
/// A real web host with <c>AddPdRouting</c>, <c>AddPdSecurity</c>, <c>MapPdAdmin</c> and the health endpoints, on
/// 127.0.0.1:0, configured from a dictionary: what the proxy's Program does, minus the PD flows.
/// </summary>
internal sealed class RoutingHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RoutingHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public InstanceRegistry Registry => _app.Services.GetRequiredService<InstanceRegistry>();

    public IInstanceSelector Selector => _app.Services.GetRequiredService<IInstanceSelector>();

    /// <summary>
    /// The discovered instance <c>{role}@{host:port}</c> (its role and address), or null: registered and DNS-discovered
    /// instances are named without their address, so tests find them by address.
    /// </summary>
    public UpstreamInstance? FindAt(string roleAtAddress)
    {
        var at = roleAtAddress.IndexOf('@', StringComparison.Ordinal);
        return Registry.Instances.SingleOrDefault(i => Describe(i) == roleAtAddress[..at].ToLowerInvariant() + "@" + roleAtAddress[(at + 1)..]);
    }

    /// <summary><c>{role}@{host:port}</c> of <paramref name="instance"/>, as the proxy used to name discovered instances.</summary>
    public static string Describe(UpstreamInstance instance) =>
        $"{instance.Role.ToString().ToLowerInvariant()}@{instance.BaseAddress.Authority}";

    public static async Task<RoutingHost> StartAsync(IDictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(WithDefaults(settings));
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddPdRouting(builder.Configuration);
        builder.Services.AddPdSecurity(builder.Configuration);
        configure?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapHealthChecks(HealthEndpoints.HealthPath);
        app.MapPdAdmin();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new RoutingHost(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Active probing off unless a test turns it on, so instances at fake addresses stay healthy.</summary>
    private static Dictionary<string, string?> WithDefaults(IDictionary<string, string?> settings)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["Pd:Proxy:Health:Enabled"] = "false" };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return all;
    }
}
