using System.Diagnostics;
using PdApp.Hosting.Deployment.Compose;
using YamlDotNet.RepresentationModel;

namespace PdApp.Tests.Deployment;

public sealed class ComposePublishingTests
{
    private const string VllmImage = "docker.io/vllm/vllm-openai:v0.11.2";

    [Fact]
    public async Task SharedStorage1P1D_EachEngineCarriesTheModelsImageCommandAndRuntimeOptions()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, Topologies.SharedStorage1P1D);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        Assert.Equal(["prefill-0", "decode-0", "proxy"], compose.ServiceNames);
        foreach (var (name, port, gpu, kvRole) in new[] { ("prefill-0", "8100", "0", "kv_producer"), ("decode-0", "8200", "1", "kv_consumer") })
        {
            var service = compose.Service(name);
            Assert.Equal(VllmImage, service.Scalar("image"));
            Assert.Equal(["vllm"], service.Strings("entrypoint"));

            // The command is exactly the model's arguments.
            var command = service.Strings("command");
            Assert.Equal(published.ModelArgs[name], command);
            Assert.Equal(["serve", "/data/dp7b/", "--port", port], command.Take(4));
            var kvConfig = command[command.ToList().IndexOf("--kv-transfer-config") + 1];
            Assert.Contains("\"kv_connector\":\"SharedStorageConnector\"", kvConfig, StringComparison.Ordinal);
            Assert.Contains($"\"kv_role\":\"{kvRole}\"", kvConfig, StringComparison.Ordinal);

            // docker run equivalents of the runtime args.
            Assert.Equal("host", service.Scalar("ipc"));
            Assert.Equal("-1", service.Scalar("ulimits", "memlock"));
            Assert.Equal("67108864", service.Scalar("ulimits", "stack"));
            Assert.False(service.Has("privileged"));
            Assert.False(service.Has("cap_add"));
            Assert.False(service.Has("network_mode"));
            Assert.Equal([$"{port}:{port}"], service.Strings("ports"));
            Assert.Equal("0", service.Map("environment")["CUDA_VISIBLE_DEVICES"]);

            var volume = (YamlMappingNode)((YamlSequenceNode)service["volumes"]).Children.Single();
            Assert.Equal(("bind", "/data", "/data", "false"), (volume.Scalar("type"), volume.Scalar("source"), volume.Scalar("target"), volume.Scalar("read_only")));

            var device = (YamlMappingNode)((YamlSequenceNode)service.At("deploy", "resources", "reservations", "devices")).Children.Single();
            Assert.Equal("nvidia", device.Scalar("driver"));
            Assert.Equal([gpu], device.Strings("device_ids"));
            Assert.Equal(["gpu"], device.Strings("capabilities"));
            Assert.False(device.Has("count"));
        }
    }

    [Fact]
    public async Task SharedStorage2P2D_EachInstanceReservesItsOwnGpuAsAQuotedString()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, Topologies.SharedStorage2P2D);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        Assert.Equal(["prefill-0", "prefill-1", "decode-0", "decode-1", "proxy"], compose.ServiceNames);
        var expected = new[] { ("prefill-0", "0", "8100"), ("prefill-1", "1", "8101"), ("decode-0", "2", "8200"), ("decode-1", "3", "8201") };
        foreach (var (name, gpu, port) in expected)
        {
            var service = compose.Service(name);
            var ids = (YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)service.At("deploy", "resources", "reservations", "devices")).Children.Single())["device_ids"];
            var id = (YamlScalarNode)ids.Children.Single();
            Assert.Equal(gpu, id.Value);

            // The Compose Specification types device_ids as strings: a plain 0 would be an integer.
            Assert.NotEqual(YamlDotNet.Core.ScalarStyle.Plain, id.Style);
            Assert.Equal(published.ModelArgs[name], service.Strings("command"));
            Assert.Equal(port, service.Strings("command")[3]);

            // Not privileged: the NVIDIA runtime renumbers the container's one GPU as 0.
            Assert.Equal("0", service.Map("environment")["CUDA_VISIBLE_DEVICES"]);
        }
    }

    [Fact]
    public async Task SharedStorage2P2D_ProxyWaitsForEveryEngineAndReachesThemByServiceName()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, Topologies.SharedStorage2P2D);
        var proxy = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName)).Service("proxy");

        Assert.Equal(PdApp.Hosting.Deployment.DeploymentDefaults.ProxyImage, proxy.Scalar("image"));
        var dependsOn = (YamlMappingNode)proxy["depends_on"];
        Assert.Equal(["prefill-0", "prefill-1", "decode-0", "decode-1"], dependsOn.Children.Keys.Select(k => k.ToString()));
        Assert.All(dependsOn.Children.Values, d => Assert.Equal("service_healthy", d.Scalar("condition")));

        var environment = proxy.Map("environment");
        Assert.Equal("SharedStorageConnector", environment["Pd__Connector"]);
        Assert.Equal("http://prefill-1:8101", environment["services__prefill-1__http__0"]);
        Assert.Equal("http://decode-1:8201", environment["services__decode-1__http__0"]);
        Assert.Equal("http://decode-1", environment["Pd__Instances__3__Address"]);
        Assert.Equal("Decode", environment["Pd__Instances__3__Role"]);
        Assert.Equal("8000", environment["HTTP_PORTS"]);
        Assert.Equal(["8000:8000"], proxy.Strings("ports"));
        Assert.False(proxy.Has("network_mode"));
    }

    [Fact]
    public async Task PdProxySettings_OfTheAppHost_AreInTheProxyServicesEnvironment()
    {
        using var published = await DeploymentPublishing.PublishAsync(
            ComposeWriter.PublisherName, "--Pd:Proxy:Timeouts:DecodeIdleSeconds=42", "--Pd:Proxy:Admission:MaxQueueLength=9");
        var environment = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName)).Service("proxy").Map("environment");

        Assert.Equal("42", environment["Pd__Proxy__Timeouts__DecodeIdleSeconds"]);
        Assert.Equal("9", environment["Pd__Proxy__Admission__MaxQueueLength"]);
        Assert.Equal("SharedStorageConnector", environment["Pd__Connector"]);
    }

    [Fact]
    public async Task AmdGpus_EnginesGetTheRocmDevicesAndTheirOwnHipVisibleDevicesInsteadOfAnNvidiaReservation()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, "--Pd:GpuVendor=Amd");
        var decode = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName)).Service("decode-0");

        Assert.Equal(["/dev/kfd", "/dev/dri"], decode.Strings("devices"));
        Assert.Equal(["video"], decode.Strings("group_add"));
        Assert.False(decode.Has("deploy"));
        Assert.Equal("1", decode.Map("environment")["HIP_VISIBLE_DEVICES"]);
    }

    [Fact]
    public async Task P2pNccl2P2DOnHostNetwork_EveryServiceUsesTheHostNetworkAndLoopbackAddresses()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, Topologies.P2pNccl2P2D);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        foreach (var (name, gpu, kvPort) in new[] { ("prefill-0", "0", 21001), ("prefill-1", "1", 21002), ("decode-0", "2", 22001), ("decode-1", "3", 22002) })
        {
            var service = compose.Service(name);
            Assert.Equal("host", service.Scalar("network_mode"));
            Assert.False(service.Has("ports"));
            Assert.Equal(published.ModelArgs[name], service.Strings("command"));
            var kvConfig = service.Strings("command").Single(a => a.StartsWith('{'));
            Assert.Contains($"\"kv_port\":{kvPort}", kvConfig, StringComparison.Ordinal);
            Assert.Contains("\"proxy_ip\":\"127.0.0.1\"", kvConfig, StringComparison.Ordinal);
            Assert.Equal("127.0.0.1", service.Map("environment")["VLLM_HOST_IP"]);
            Assert.Equal([gpu], ((YamlMappingNode)((YamlSequenceNode)service.At("deploy", "resources", "reservations", "devices")).Children.Single()).Strings("device_ids"));
        }

        var proxy = compose.Service("proxy");
        Assert.Equal("host", proxy.Scalar("network_mode"));
        var environment = proxy.Map("environment");
        Assert.Equal("P2pNcclConnector", environment["Pd__Connector"]);
        Assert.Equal("30001", environment["Pd__Registry__Port"]);
        Assert.Equal("http://127.0.0.1:8201", environment["services__decode-1__http__0"]);
        Assert.Equal("127.0.0.1:22002", environment["Pd__Instances__3__KvAddress"]);
    }

    [Fact]
    public async Task P2pNcclOnBridgeNetwork_EnginesReachTheProxysPublishedRegistryThroughTheHostGateway()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, Topologies.P2pNcclBridge1P1D);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        var prefill = compose.Service("prefill-0");
        Assert.Contains("\"proxy_ip\":\"host.docker.internal\"", prefill.Strings("command").Single(a => a.StartsWith('{')), StringComparison.Ordinal);
        Assert.Equal(["host.docker.internal:host-gateway"], prefill.Strings("extra_hosts"));
        // VLLM_HOST_IP is bound by the engine's ZMQ router: a fixed address on the pd network, which the proxy's
        // configured KV address repeats.
        var address = prefill.Scalar("networks", "pd", "ipv4_address");
        Assert.Equal(address, prefill.Map("environment")["VLLM_HOST_IP"]);

        var proxy = compose.Service("proxy");
        Assert.Equal(["8000:8000", "30001:30001"], proxy.Strings("ports"));
        Assert.False(proxy.Has("extra_hosts"));
        Assert.Equal(address + ":21001", proxy.Map("environment")["Pd__Instances__0__KvAddress"]);
    }

    [Fact]
    public async Task PyNccl1P1D_EnginesArePrivilegedWithCapabilitiesAndHostIndicesAsVisibleDevices()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, Topologies.PyNccl1P1D);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        foreach (var (name, gpu) in new[] { ("prefill-0", "0"), ("decode-0", "1") })
        {
            var service = compose.Service(name);
            Assert.Equal("true", service.Scalar("privileged"));
            Assert.Equal(["SYS_PTRACE"], service.Strings("cap_add"));
            Assert.Equal("host", service.Scalar("network_mode"));
            var environment = service.Map("environment");

            // Privileged containers see every host GPU, so the model lists host indices.
            Assert.Equal(gpu, environment["CUDA_VISIBLE_DEVICES"]);
            Assert.Equal("eth0", environment["NCCL_SOCKET_IFNAME"]);
            Assert.Equal("eth0", environment["GLOO_SOCKET_IFNAME"]);
            Assert.Contains("\"kv_connector\":\"PyNcclConnector\"", service.Strings("command").Single(a => a.StartsWith('{')), StringComparison.Ordinal);
            Assert.Equal(published.ModelArgs[name], service.Strings("command"));
        }
    }

    [Fact]
    public async Task Secrets_AreOnlyReferencedInComposeAndListedInTheEnvFile()
    {
        using var published = await DeploymentPublishing.PublishAsync(
            ComposeWriter.PublisherName, [.. Topologies.SharedStorage1P1D, .. Topologies.WithSecrets, "--Parameters:vllm-api-key=configured-api-key-value"]);
        var composeText = published.Read(ComposeWriter.ComposeFileName);
        Assert.DoesNotContain("configured-api-key-value", composeText, StringComparison.Ordinal);
        Assert.DoesNotContain("configured-api-key-value", published.Read(ComposeWriter.EnvFileName), StringComparison.Ordinal);
        var compose = ComposeDocument.Parse(composeText);

        foreach (var name in new[] { "prefill-0", "decode-0" })
        {
            var service = compose.Service(name);
            // The key travels in the environment vLLM reads (VLLM_API_KEY), never on the command line; compose
            // refuses to start while .env leaves a secret empty (${VAR:?...}) instead of running with auth off.
            Assert.DoesNotContain("--api-key", service.Strings("command"));
            Assert.Equal("${VLLM_API_KEY:?set VLLM_API_KEY in .env (Aspire parameter vllm-api-key)}", service.Map("environment")["VLLM_API_KEY"]);
            Assert.Equal("${HF_TOKEN:?set HF_TOKEN in .env (Aspire parameter hf-token)}", service.Map("environment")["HF_TOKEN"]);
        }

        Assert.StartsWith("${VLLM_API_KEY:?", compose.Service("proxy").Map("environment")["Pd__UpstreamApiKey"], StringComparison.Ordinal);

        var env = published.Read(ComposeWriter.EnvFileName).Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal(["HF_TOKEN=", "VLLM_API_KEY="], env);
    }

    [Fact]
    public async Task HealthCheck_ProbesHealthWithPythonAfterTheConfiguredStartPeriod()
    {
        using var published = await DeploymentPublishing.PublishAsync(
            ComposeWriter.PublisherName, "--Pd:Compose:HealthCheckStartPeriodSeconds=900", "--Pd:Compose:ProxyImage=registry.example/pd/proxy:1.2");
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        var check = compose.Service("decode-0").At("healthcheck");
        var test = check.Strings("test");
        Assert.Equal(["CMD", "python3", "-c"], test.Take(3));
        Assert.Contains("urlopen('http://127.0.0.1:8200/health'", test[3], StringComparison.Ordinal);
        Assert.Equal("900s", check.Scalar("start_period"));
        Assert.Equal("registry.example/pd/proxy:1.2", compose.Service("proxy").Scalar("image"));
    }

    [Fact]
    public async Task InvalidComposeSetting_FailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, "--Pd:Compose:HealthCheckIntervalSeconds=0"));
        Assert.Contains("Pd:Compose:HealthCheckIntervalSeconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerComposeConfig_AcceptsEveryPublishedTopology()
    {
        var docker = FindOnPath("docker-compose");
        foreach (var topology in new[] { Topologies.SharedStorage2P2D, Topologies.P2pNccl2P2D, Topologies.PyNccl1P1D, Topologies.Nixl2P2D, Topologies.LMCache1P1D, Topologies.Multi1P1D, [.. Topologies.P2pNcclBridge1P1D, .. Topologies.WithSecrets] })
        {
            using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, topology);
            var text = published.Read(ComposeWriter.ComposeFileName);
            if (docker is null)
            {
                // Without docker-compose (see .ci/run for the install line), at least the file must be YAML
                // that parses back to the same services.
                Assert.NotEmpty(ComposeDocument.Parse(text).ServiceNames);
                continue;
            }

            // Fill every secret first: compose refuses an empty one (see the fail-closed test).
            var envPath = Path.Combine(published.Directory, ComposeWriter.EnvFileName);
            var filled = (await File.ReadAllLinesAsync(envPath)).Select(l => l.EndsWith('=') ? l + "filled" : l);
            await File.WriteAllLinesAsync(envPath, filled);
            var (exitCode, output, errors) = await RunAsync(docker, published.Directory, "-f", ComposeWriter.ComposeFileName, "config");
            Assert.True(exitCode == 0, $"docker-compose config failed ({exitCode}): {errors}");

            // docker-compose reads .env and substitutes the references.
            var resolved = ComposeDocument.Parse(output);
            Assert.Equal(ComposeDocument.Parse(text).ServiceNames.Order(), resolved.ServiceNames.Order());
        }
    }

    [Fact]
    public async Task DockerComposeConfig_RefusesAnEmptySecret()
    {
        var docker = FindOnPath("docker-compose");
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, [.. Topologies.SharedStorage1P1D, .. Topologies.WithSecrets]);
        if (docker is null)
        {
            // The file alone: every reference to a secret is the failing form.
            Assert.DoesNotContain("${VLLM_API_KEY}", published.Read(ComposeWriter.ComposeFileName), StringComparison.Ordinal);
            return;
        }

        var (exitCode, _, errors) = await RunAsync(docker, published.Directory, "-f", ComposeWriter.ComposeFileName, "config");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("set HF_TOKEN in .env", errors, StringComparison.Ordinal);
    }

    internal static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    internal static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string program, string directory, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
