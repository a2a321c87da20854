using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdApp.Simulator.Api;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Generation;
using PdApp.Simulator.Hosting;
using PdApp.Simulator.KvTransfer;
using PdApp.Simulator.Metrics;

namespace PdApp.Simulator;

/// <summary>
/// Builds the simulator: a web application that answers like <c>vllm serve</c> started with the same
/// command line, playing the prefill or decode role of its <c>--kv-transfer-config</c>.
/// </summary>
public static class SimulatorApp
{
    /// <summary>Builds the application from a <c>vllm serve</c> command line.</summary>
    /// <param name="args">
    /// The command line, e.g. <c>["serve", "/data/dp7b/", "--port", "0"]</c>. <c>--host</c> and
    /// <c>--port</c> decide the binding and override <c>ASPNETCORE_URLS</c>.
    /// </param>
    /// <returns>The application, not started.</returns>
    /// <exception cref="SimulatorArgumentException">A flag has an invalid value (the message names it).</exception>
    public static WebApplication Create(string[] args) => Create(args, configure: null);

    /// <summary>
    /// Builds the application, letting the caller adjust the builder first (tests use this to give an
    /// in-process instance its own <c>VLLM_*</c> / <c>LMCACHE_*</c> variables through configuration).
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <param name="configure">Called before the options are read; may add configuration sources.</param>
    /// <returns>The application, not started.</returns>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure)
    {
        ArgumentNullException.ThrowIfNull(args);
        var ignoredFlags = new List<string>();
        var options = SimulatorOptionsParser.Parse(args, ignoredFlags);

        // The vLLM command line is ours to read: keep it away from the generic command-line configuration.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });

        // Lowest-priority defaults (appsettings, environment and callers override them): per-request
        // framework logs would cost more than the simulated engine at thousands of streams.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            },
        });
        configure?.Invoke(builder);

        // After configure and the environment: --host/--port win over ASPNETCORE_URLS (which Aspire sets).
        builder.WebHost.UseUrls(ListenUrl(options));
        if (options.OtlpTracesEndpoint is { } otlp)
        {
            builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp;
        }

        builder.AddServiceDefaults(SimulatorMeter.MeterName);

        builder.Services.AddSimulator(options);

        var app = builder.Build();

        // Build the connector now so its configuration errors (env, extra config) fail here, naming the setting.
        _ = app.Services.GetRequiredService<IKvConnectorSimulation>();
        _ = app.Services.GetRequiredService<SimulatorMeter>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PdApp.Simulator");
        foreach (var line in ignoredFlags)
        {
            logger.LogInformation("{IgnoredFlag}", line);
        }

        var tokenizer = app.Services.GetRequiredService<PromptTokenizer>().Source;
        logger.LogInformation("Tokenizer: {Tokenizer}", tokenizer.Description);

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var identity = app.Services.GetRequiredService<InstanceIdentity>();
            identity.SetBound(GetBaseAddress(app));
            logger.LogInformation(
                "Simulating vLLM {Model} as {Instance} ({Connector} {Role}) on {Address}",
                options.PrimaryModelName,
                identity.Name,
                options.KvTransfer?.KvConnector ?? "no connector",
                options.KvTransfer?.KvRole ?? "-",
                GetBaseAddress(app));
        });

        app.UseSimulatorMiddleware();
        app.MapHealthChecks(HealthEndpoints.AlivePath);
        app.MapInfoEndpoints();
        app.MapTokenizeEndpoint();
        app.MapPost("/v1/completions", (HttpContext context, CompletionEndpoint endpoint) => endpoint.HandleAsync(context, CompletionKind.Text));
        app.MapPost("/v1/chat/completions", (HttpContext context, CompletionEndpoint endpoint) => endpoint.HandleAsync(context, CompletionKind.Chat));
        return app;
    }

    /// <summary>
    /// The base URL a started simulator listens on, with wildcard hosts replaced by 127.0.0.1
    /// (tests start it with <c>--port 0</c> and read the chosen port here).
    /// </summary>
    /// <param name="app">A started application from <see cref="Create(string[])"/>.</param>
    /// <returns>E.g. <c>http://127.0.0.1:41234/</c>.</returns>
    /// <exception cref="InvalidOperationException">The application has not started.</exception>
    public static Uri GetBaseAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The simulator has not started; call StartAsync first.");
        var uri = new UriBuilder(address);
        if (uri.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*")
        {
            uri.Host = IPAddress.Loopback.ToString();
        }

        uri.Path = "/";
        return uri.Uri;
    }

    private static string ListenUrl(SimulatorOptions options)
    {
        var host = options.Host;
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = $"[{host}]";
        }

        return $"http://{host}:{options.Port}";
    }
}
