using System.Net.Http.Headers;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdApp.Hosting;
using PdApp.Hosting.Topology;
using PdApp.Protocol;
using PdApp.Tests.Hosting;
using PdApp.Tests.Observability.Infrastructure;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Observability;

/// <summary>What <c>WithPdDashboard</c> adds to the app model, and its commands against a running proxy.</summary>
public sealed class DashboardModelTests
{
    private const string AdminKey = "dashboard-test-admin-key";

    private static (IDistributedApplicationBuilder Builder, PdTopology Topology, IResourceBuilder<PdProxyResource> Proxy) Declare(
        PdBackend backend, params string[] appHostArgs)
    {
        var options = PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Pd:Model"] = ProxyFixture.Model,
                ["Pd:Connector"] = KvConnectorNames.SharedStorage,
            })
            .Build());
        var builder = AppModel.CreateBuilder([$"--Parameters:{PdDashboardExtensions.AdminKeyParameterName}={AdminKey}", .. appHostArgs]);
        var topology = builder.AddPdInstances<Projects.PdApp_Simulator>(options, new PdBackendDecision(backend, "chosen by the test"));
        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName)
            .WithPdInstances(topology)
            .WithPdDashboard(topology);
        return (builder, topology, proxy);
    }

    private static ResourceCommandAnnotation Command(IResource resource, string name) =>
        Assert.Single(resource.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == name);

    private static IResource Resource(IDistributedApplicationBuilder builder, string name) =>
        builder.Resources.Single(r => r.Name == name);

    [Fact]
    public void Dashboard_InstancesNestedUnderProxyWithRoleRelationshipsAndCommands()
    {
        var (builder, _, proxy) = Declare(PdBackend.Simulator);

        Assert.Equal("Send test request", Command(proxy.Resource, PdDashboardExtensions.SendTestRequestCommand).DisplayName);
        var relationships = proxy.Resource.Annotations.OfType<ResourceRelationshipAnnotation>().ToList();
        Assert.Contains(relationships, r => r.Resource.Name == "prefill-0" && r.Type == "prefill");
        Assert.Contains(relationships, r => r.Resource.Name == "decode-0" && r.Type == "decode");
        foreach (var name in new[] { "prefill-0", "decode-0" })
        {
            var instance = Resource(builder, name);
            Assert.Contains(instance.Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Type == "Parent" && r.Resource == proxy.Resource);
            Assert.Equal("Drain", Command(instance, PdDashboardExtensions.DrainCommand).DisplayName);
            Assert.Equal("Undrain", Command(instance, PdDashboardExtensions.UndrainCommand).DisplayName);
            Assert.NotEmpty(instance.Annotations.OfType<ResourceUrlsCallbackAnnotation>());
        }

        Assert.NotEmpty(proxy.Resource.Annotations.OfType<ResourceUrlsCallbackAnnotation>());
    }

    [Fact]
    public async Task Dashboard_ProxyGetsAdminKeyParameter()
    {
        var (builder, _, proxy) = Declare(PdBackend.Simulator);

        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal($"{{{PdDashboardExtensions.AdminKeyParameterName}.value}}", env[PdProxySettings.ToEnvironmentVariable(PdProxySettings.AdminApiKey)]);
        var parameter = Assert.IsType<ParameterResource>(Resource(builder, PdDashboardExtensions.AdminKeyParameterName));
        Assert.True(parameter.Secret);
    }

    [Fact]
    public async Task Dashboard_WithUseAdminApiKey_ReusesThatParameter_OneKeyForProxyAndCommands()
    {
        var options = PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Pd:Model"] = ProxyFixture.Model,
                ["Pd:Connector"] = KvConnectorNames.SharedStorage,
                ["Pd:UseAdminApiKey"] = "true",
            })
            .Build());
        var builder = AppModel.CreateBuilder([$"--Parameters:{PdDashboardExtensions.AdminKeyParameterName}={AdminKey}"]);
        var topology = builder.AddPdInstances<Projects.PdApp_Simulator>(options, new PdBackendDecision(PdBackend.Simulator, "chosen by the test"));
        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName).WithPdInstances(topology).WithPdDashboard(topology);

        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Single(builder.Resources.OfType<ParameterResource>(), p => p.Name.Contains("admin", StringComparison.Ordinal));
        Assert.Equal($"{{{PdDashboardExtensions.AdminKeyParameterName}.value}}", env[PdProxySettings.ToEnvironmentVariable(PdProxySettings.AdminApiKey)]);
    }

    [Fact]
    public async Task Publishing_LeavesTheModelUnchanged()
    {
        var output = Path.Combine(Path.GetTempPath(), $"pdapp-manifest-{Guid.NewGuid():N}.json");
        var (builder, _, proxy) = Declare(PdBackend.Vllm, "--publisher", "manifest", "--output-path", output, "--Pd:Dashboard:VllmTraces=true");

        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);
        var (decodeArgs, _) = await AppModel.EvaluateAsync(Resource(builder, "decode-0"));

        Assert.DoesNotContain(builder.Resources, r => r.Name == PdDashboardExtensions.AdminKeyParameterName);
        Assert.False(env.ContainsKey(PdProxySettings.ToEnvironmentVariable(PdProxySettings.AdminApiKey)));
        Assert.DoesNotContain(proxy.Resource.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name.StartsWith("pd-", StringComparison.Ordinal));
        Assert.DoesNotContain("--otlp-traces-endpoint", decodeArgs);
    }

    [Theory]
    [InlineData("http://localhost:4317", null, "http://localhost:4317", "grpc")]
    [InlineData(null, "http://localhost:4318", "http://localhost:4318/v1/traces", "http/protobuf")]
    public async Task VllmContainers_TracesGoToTheDashboardOtlpEndpoint(string? grpc, string? http, string expectedEndpoint, string expectedProtocol)
    {
        var args = new List<string>();
        if (grpc is not null)
        {
            args.Add($"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL={grpc}");
        }

        if (http is not null)
        {
            args.Add($"--ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL={http}");
        }

        var (builder, _, _) = Declare(PdBackend.Vllm, ["--Pd:Dashboard:VllmTraces=true", .. args]);
        var decode = Assert.IsType<VllmResource>(Resource(builder, "decode-0"));
        var run = new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run);

        var values = new List<object>();
        var argsContext = new CommandLineArgsCallbackContext(values, decode, CancellationToken.None) { ExecutionContext = run };
        foreach (var callback in decode.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(argsContext);
        }

        var flag = values.IndexOf("--otlp-traces-endpoint");
        Assert.True(flag >= 0, "vLLM gets --otlp-traces-endpoint");
        var endpoint = Assert.IsType<HostUrl>(values[flag + 1]);
        Assert.Equal(expectedEndpoint, endpoint.Url);

        var environment = new Dictionary<string, object>();
        var envContext = new EnvironmentCallbackContext(run, decode, environment, CancellationToken.None);
        foreach (var callback in decode.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(envContext);
        }

        Assert.Equal(expectedProtocol, environment[VllmOtlpExtensions.TracesProtocolVariable]);
        Assert.True(environment.ContainsKey("OTEL_SERVICE_NAME"), "WithOtlpExporter names the service");

        // A published manifest gets no dashboard endpoint.
        var (publishedArgs, _) = await AppModel.EvaluateAsync(decode);
        Assert.DoesNotContain("--otlp-traces-endpoint", publishedArgs);
    }

    [Fact]
    public async Task VllmContainers_ByDefault_GetNoOtlpTracesFlag()
    {
        // Older vLLM images exit at start when given the flag without OpenTelemetry installed.
        var (builder, _, _) = Declare(PdBackend.Vllm, "--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:4317");
        var decode = Assert.IsType<VllmResource>(Resource(builder, "decode-0"));

        var values = new List<object>();
        var context = new CommandLineArgsCallbackContext(values, decode, CancellationToken.None)
        {
            ExecutionContext = new DistributedApplicationExecutionContext(DistributedApplicationOperation.Run),
        };
        foreach (var callback in decode.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        Assert.DoesNotContain("--otlp-traces-endpoint", values);
        Assert.Contains("--port", values);
    }

    [Fact]
    public async Task SimulatorInstances_GetNoOtlpTracesFlag()
    {
        var (builder, _, _) = Declare(PdBackend.Simulator);

        var (args, _) = await AppModel.EvaluateAsync(Resource(builder, "decode-0"));

        Assert.DoesNotContain("--otlp-traces-endpoint", args);
    }

    [Fact]
    public async Task DrainAndUndrainCommands_ChangeTheInstanceInTheRunningProxy()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var running = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], [$"{PdProxySettings.AdminApiKey}={AdminKey}"]);
        var (builder, _, proxy) = Declare(PdBackend.Simulator);
        Allocate(proxy.Resource, running.BaseAddress);
        var instance = Resource(builder, "decode-0");
        var logger = new CapturingLogger();

        var drained = await Command(instance, PdDashboardExtensions.DrainCommand).ExecuteCommand(Context(instance, logger));

        Assert.True(drained.Success, drained.Message);
        Assert.True(await IsDrainingAsync(running, "decode-0"));
        Assert.False(await IsDrainingAsync(running, "prefill-0"));
        Assert.Contains(logger.Lines, l => l.Level == LogLevel.Information && l.Message.Contains("decode-0", StringComparison.Ordinal));

        var undrained = await Command(instance, PdDashboardExtensions.UndrainCommand).ExecuteCommand(Context(instance, logger));

        Assert.True(undrained.Success, undrained.Message);
        Assert.False(await IsDrainingAsync(running, "decode-0"));
    }

    [Fact]
    public async Task DrainCommand_WrongAdminKey_FailsWithTheProxysMessage()
    {
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var running = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Dead("prefill-0")], [Upstream.Of(decode)], [$"{PdProxySettings.AdminApiKey}=another-key"]);
        var (builder, _, proxy) = Declare(PdBackend.Simulator);
        Allocate(proxy.Resource, running.BaseAddress);
        var instance = Resource(builder, "decode-0");

        var result = await Command(instance, PdDashboardExtensions.DrainCommand).ExecuteCommand(Context(instance, new CapturingLogger()));

        Assert.False(result.Success);
        Assert.Contains("401", result.Message, StringComparison.Ordinal);
        Assert.Contains("Invalid admin API key", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendTestRequestCommand_CompletesThroughPrefillAndDecodeAndLogsIt()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var running = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);
        var (_, _, proxy) = Declare(PdBackend.Simulator);
        Allocate(proxy.Resource, running.BaseAddress);
        var logger = new CapturingLogger();

        var result = await Command(proxy.Resource, PdDashboardExtensions.SendTestRequestCommand).ExecuteCommand(Context(proxy.Resource, logger));

        Assert.True(result.Success, result.Message);
        Assert.Contains("prefill-0 -> decode-0", result.Message, StringComparison.Ordinal);
        var line = Assert.Single(logger.Lines, l => l.Message.StartsWith("Test request", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("San Francisco is a", line.Message, StringComparison.Ordinal);
        Assert.Equal(1, await running.Metrics.WaitForAsync("pdapp.proxy.requests", 1, "status", 200));
    }

    [Fact]
    public async Task SendTestRequestCommand_ProxyNotStarted_FailsClearly()
    {
        var (_, _, proxy) = Declare(PdBackend.Simulator);

        var result = await Command(proxy.Resource, PdDashboardExtensions.SendTestRequestCommand).ExecuteCommand(Context(proxy.Resource, new CapturingLogger()));

        Assert.False(result.Success);
        Assert.Contains("not allocated", result.Message, StringComparison.Ordinal);
    }

    private static void Allocate(ProjectResource proxy, Uri address)
    {
        var endpoint = Assert.Single(proxy.Annotations.OfType<EndpointAnnotation>(), e => e.Name == PdProxyResource.HttpEndpointName);
        endpoint.AllocatedEndpoint = new AllocatedEndpoint(endpoint, address.Host, address.Port);
    }

    private static ExecuteCommandContext Context(IResource resource, ILogger logger) => new()
    {
        Services = new ServiceCollection().AddHttpClient().BuildServiceProvider(),
        ResourceName = resource.Name,
        CancellationToken = CancellationToken.None,
        Logger = logger,
        Arguments = new InteractionInputCollection([]),
    };

    private static async Task<bool> IsDrainingAsync(ProxyFixture proxy, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/instances");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await proxy.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("data").EnumerateArray()
            .Single(i => i.GetProperty("name").GetString() == name)
            .GetProperty("draining").GetBoolean();
    }
}
