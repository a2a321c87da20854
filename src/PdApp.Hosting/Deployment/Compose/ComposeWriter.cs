using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using PdApp.Hosting.Containers;
using PdApp.Hosting.Deployment.Model;
using YamlDotNet.Serialization;

namespace PdApp.Hosting.Deployment.Compose;

/// <summary>
/// Writes <c>compose.yaml</c> and <c>.env</c> for one GPU host (Compose Specification; checked with
/// <c>docker-compose config</c> 1.29 and valid for <c>docker compose</c> v2): one service per vLLM engine with
/// the engine's image, entrypoint, arguments, environment, IPC, ulimits, capabilities, GPU reservation,
/// <c>/data</c> bind mount and a <c>/health</c> check, and the proxy service depending on every engine being
/// healthy, with a restart policy and a stop grace period longer than the proxy's drain. Secrets appear only
/// as <c>${VAR:?...}</c> references (compose refuses to start when one is unset); their values go in <c>.env</c>.
/// Engines that bind KV sockets get fixed addresses on one compose network (<see cref="ComposeNetwork"/>).
/// </summary>
/// <param name="options">The writer's settings.</param>
/// <param name="logger">Logs what was written.</param>
public sealed class ComposeWriter(PdComposeOptions options, ILogger<ComposeWriter> logger) : IDeploymentWriter
{
    /// <summary>The publisher name.</summary>
    public const string PublisherName = "compose";

    /// <summary>The compose file's name.</summary>
    public const string ComposeFileName = "compose.yaml";

    /// <summary>The variables file compose reads from the project folder.</summary>
    public const string EnvFileName = ".env";

    /// <inheritdoc/>
    public string Name => PublisherName;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> WriteAsync(DeploymentSnapshot snapshot, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        Directory.CreateDirectory(outputDirectory);
        var network = new ComposeNetwork(snapshot, options.Subnet);
        var services = new Dictionary<string, object>(StringComparer.Ordinal);
        var downloads = new ComposeModelDownload(snapshot, options.ModelDownload);
        foreach (var (name, download) in downloads.Services(engine => RenderEngineEnvironment(engine, network)))
        {
            services[name] = download;
        }

        foreach (var engine in snapshot.Engines)
        {
            services[engine.Name] = BuildEngine(engine, network, downloads);
        }

        services[snapshot.Gateway.Name] = BuildGateway(snapshot, network, outputDirectory);

        var document = new Dictionary<string, object> { ["services"] = services };
        if (downloads.UsesCacheVolume)
        {
            document["volumes"] = new Dictionary<string, object> { [ComposeModelDownload.CacheVolume] = new Dictionary<string, object>() };
        }

        if (network.Subnet is { } subnet)
        {
            document["networks"] = new Dictionary<string, object>
            {
                [ComposeNetwork.NetworkName] = new Dictionary<string, object>
                {
                    ["ipam"] = new Dictionary<string, object>
                    {
                        ["config"] = new[] { new Dictionary<string, object> { ["subnet"] = subnet.ToString() } },
                    },
                },
            };
        }

        var yaml = new SerializerBuilder()
            .WithQuotingNecessaryStrings()
            .DisableAliases()
            .Build()
            .Serialize(document);
        var composePath = Path.Combine(outputDirectory, ComposeFileName);
        await File.WriteAllTextAsync(
            composePath,
            "# Generated from the PdApp app model (dotnet run --project src/PdApp.AppHost -- --publisher compose). Regenerate rather than edit.\n" + yaml,
            cancellationToken).ConfigureAwait(false);

        var envPath = Path.Combine(outputDirectory, EnvFileName);
        await File.WriteAllTextAsync(envPath, BuildEnvFile(snapshot.Parameters), cancellationToken).ConfigureAwait(false);

        logger.LogInformation(
            "Wrote {ComposeFile} ({Engines} engines and {Gateway}) and {EnvFile} ({Parameters} parameters)",
            composePath, snapshot.Engines.Count, snapshot.Gateway.Name, envPath, snapshot.Parameters.Count);
        return [composePath, envPath];
    }

    private static Dictionary<string, string> RenderEngineEnvironment(DeploymentEngine engine, ComposeNetwork network) =>
        engine.Environment.ToDictionary(
            e => e.Key,
            e => e.Key == UcxTransports.Variable
                ? UcxTransports.ForSeparateContainers(network.RenderEngineVariable(engine, e.Key, e.Value))
                : network.RenderEngineVariable(engine, e.Key, e.Value),
            StringComparer.Ordinal);

    private Dictionary<string, object> BuildEngine(DeploymentEngine engine, ComposeNetwork network, ComposeModelDownload downloads)
    {
        var service = new Dictionary<string, object> { ["image"] = engine.Image };

        // The model always names the executable (vllm or python3), so the arguments never depend on
        // what an image's own ENTRYPOINT is (the vLLM PD guide's images start a shell).
        if (engine.Entrypoint is { } entrypoint)
        {
            service["entrypoint"] = new[] { entrypoint };
        }

        service["command"] = engine.Args.Select(a => network.Render(a, engine.HostNetwork)).ToList();
        var environment = RenderEngineEnvironment(engine, network);
        if (environment.Count > 0)
        {
            service["environment"] = environment;
        }

        if (engine.HostIpc)
        {
            service["ipc"] = "host";
        }

        var ulimits = new Dictionary<string, object>();
        if (engine.UnlimitedMemlock)
        {
            ulimits["memlock"] = -1;
        }

        if (engine.StackLimitBytes is { } stack)
        {
            ulimits["stack"] = stack;
        }

        if (ulimits.Count > 0)
        {
            service["ulimits"] = ulimits;
        }

        if (engine.Privileged)
        {
            service["privileged"] = true;
        }

        if (engine.Capabilities.Count > 0)
        {
            service["cap_add"] = engine.Capabilities.ToList();
        }

        var volumes = downloads.Volumes(engine);
        if (volumes.Count > 0)
        {
            service["volumes"] = volumes;
        }

        if (downloads.DownloadOf(engine) is { } download)
        {
            // The model is in the cache before vLLM starts, so the health check's start period times loading only.
            service["depends_on"] = new Dictionary<string, object>
            {
                [download] = new Dictionary<string, object> { ["condition"] = "service_completed_successfully" },
            };
        }

        if (engine.Gpus.Vendor == GpuVendor.Amd && (engine.Gpus.All || engine.Gpus.DeviceIds.Count > 0))
        {
            // ROCm: the devices themselves (HIP_VISIBLE_DEVICES, in the environment, picks the engine's GPUs).
            service["devices"] = new[] { "/dev/kfd", "/dev/dri" };
            service["group_add"] = new[] { "video" };
        }
        else if (BuildGpuReservation(engine.Gpus) is { } devices)
        {
            service["deploy"] = new Dictionary<string, object>
            {
                ["resources"] = new Dictionary<string, object>
                {
                    ["reservations"] = new Dictionary<string, object> { ["devices"] = new[] { devices } },
                },
            };
        }

        AddNetworking(service, engine.HostNetwork, engine.Endpoints, UsesHostAlias(service));
        if (network.FixedAddress(engine.Name) is { } address)
        {
            service["networks"] = new Dictionary<string, object>
            {
                [ComposeNetwork.NetworkName] = new Dictionary<string, object> { ["ipv4_address"] = address.ToString() },
            };
        }

        service["healthcheck"] = BuildHealthCheck(engine);
        service["restart"] = options.RestartPolicy;
        return service;
    }

    private Dictionary<string, object> BuildGateway(DeploymentSnapshot snapshot, ComposeNetwork network, string outputDirectory)
    {
        var gateway = snapshot.Gateway;
        var service = new Dictionary<string, object> { ["image"] = options.ProxyImage };
        if (options.ProxySourceRoot is { Length: > 0 } root && File.Exists(Path.Combine(root, PdComposeOptions.ProxyDockerfile)))
        {
            var context = Path.GetRelativePath(outputDirectory, root).Replace('\\', '/');
            // With both image and build, compose builds the proxy from the sources and tags it as the image.
            service["build"] = new Dictionary<string, object> { ["context"] = context, ["dockerfile"] = PdComposeOptions.ProxyDockerfile };
            service["pull_policy"] = "build";
        }

        var environment = RenderEnvironment(gateway.Environment, network, network.GatewayHostNetwork);
        network.UseFixedAddresses(environment);
        if (environment.Count > 0)
        {
            service["environment"] = environment;
        }

        // Models load for minutes; the proxy starts once every engine answers /health, so its own
        // readiness does not flap while they load.
        if (snapshot.Engines.Count > 0)
        {
            service["depends_on"] = snapshot.Engines.ToDictionary(
                e => e.Name,
                _ => (object)new Dictionary<string, object> { ["condition"] = "service_healthy" },
                StringComparer.Ordinal);
        }

        AddNetworking(service, network.GatewayHostNetwork, gateway.Endpoints, UsesHostAlias(service));
        if (network.Joins(network.GatewayHostNetwork))
        {
            service["networks"] = new[] { ComposeNetwork.NetworkName };
        }

        // On SIGTERM the proxy turns readiness off and drains in-flight streams for up to its shutdown timeout;
        // compose's default grace period (10 s) would kill it mid-stream.
        service["stop_grace_period"] = Seconds(snapshot.Gateway.DrainSeconds + PdComposeOptions.StopGraceMarginSeconds);
        service["restart"] = options.RestartPolicy;

        // No healthcheck: the proxy's image (the .NET SDK's chiseled ASP.NET image) has neither curl nor a shell.
        return service;
    }

    private static Dictionary<string, string> RenderEnvironment(
        IReadOnlyList<KeyValuePair<string, DeploymentValue>> environment, ComposeNetwork network, bool hostNetwork)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in environment)
        {
            result[key] = network.Render(value, hostNetwork);
        }

        return result;
    }

    private static void AddNetworking(Dictionary<string, object> service, bool hostNetwork, IReadOnlyList<DeploymentEndpoint> endpoints, bool usesHostAlias)
    {
        if (hostNetwork)
        {
            // Ports are the host's own; publishing them is neither needed nor allowed with network_mode: host.
            service["network_mode"] = "host";
            return;
        }

        if (endpoints.Count > 0)
        {
            service["ports"] = endpoints.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Port}:{e.TargetPort}")).ToList();
        }

        if (usesHostAlias)
        {
            // Docker Desktop defines host.docker.internal; on Linux, host-gateway maps it to the host (Docker >= 20.10).
            service["extra_hosts"] = new[] { ComposeNetwork.HostAlias + ":host-gateway" };
        }
    }

    private static bool UsesHostAlias(Dictionary<string, object> service)
    {
        IEnumerable<string> command = service.TryGetValue("command", out var c) ? (IEnumerable<string>)c : [];
        IEnumerable<string> environment = service.TryGetValue("environment", out var e) ? ((Dictionary<string, string>)e).Values : [];
        return command.Concat(environment).Any(v => v.Contains(ComposeNetwork.HostAlias, StringComparison.Ordinal));
    }

    private static Dictionary<string, object>? BuildGpuReservation(DeploymentGpus gpus)
    {
        if (!gpus.All && gpus.DeviceIds.Count == 0)
        {
            return null;
        }

        var devices = new Dictionary<string, object> { ["driver"] = "nvidia" };
        if (gpus.All)
        {
            devices["count"] = "all";
        }
        else
        {
            // The Compose Specification types device_ids as strings.
            devices["device_ids"] = gpus.DeviceIds.Select(id => id.ToString(CultureInfo.InvariantCulture)).ToList();
        }

        devices["capabilities"] = new[] { "gpu" };
        return devices;
    }

    private Dictionary<string, object> BuildHealthCheck(DeploymentEngine engine)
    {
        // vLLM images have python3 (vLLM is Python) but not always curl; urlopen raises on 503 (engine dead)
        // and on connection errors, so the exit status is 0 only for a 2xx answer.
        var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{engine.HttpEndpoint.TargetPort}{engine.HealthPath}");
        return new Dictionary<string, object>
        {
            ["test"] = new[] { "CMD", "python3", "-c", $"import urllib.request; urllib.request.urlopen('{url}', timeout=5)" },
            ["interval"] = Seconds(options.HealthCheckIntervalSeconds),
            ["timeout"] = "5s",
            ["retries"] = 3,
            ["start_period"] = Seconds(options.HealthCheckStartPeriodSeconds),
        };
    }

    private static string Seconds(int seconds) => seconds.ToString(CultureInfo.InvariantCulture) + "s";

    private static string BuildEnvFile(IReadOnlyList<DeploymentParameter> parameters)
    {
        var text = new StringBuilder();
        text.Append("# Values for the ${VAR} references in compose.yaml. Keep this file out of version control.\n");
        foreach (var parameter in parameters.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"# Aspire parameter '{parameter.Name}'{(parameter.IsSecret ? " (secret): required, docker compose up stops while it is empty" : string.Empty)}\n");
            text.Append(parameter.EnvironmentVariableName).Append('=').Append(EnvFileValue(parameter.Value)).Append('\n');
        }

        return text.ToString();
    }

    private static string EnvFileValue(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        // Compose takes single-quoted values literally (no interpolation, no escapes), so only a single quote cannot be written.
        if (value.Contains('\'', StringComparison.Ordinal))
        {
            throw new InvalidOperationException("A parameter value for .env contains a single quote, which compose cannot read back literally.");
        }

        return value.Any(c => char.IsWhiteSpace(c) || c is '#' or '"' or '$' or '\\') ? "'" + value + "'" : value;
    }
}
