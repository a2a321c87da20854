using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Logging.Abstractions;
using PdApp.Hosting;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;

namespace PdApp.Tests.Deployment;

/// <summary>The model reader on hand-built models: values the app host's own topology does not produce.</summary>
public sealed class DeploymentModelReaderTests
{
    [Fact]
    public async Task ReferenceExpression_IsSplitIntoLiteralAndEndpointParts()
    {
        var builder = CreateBuilder();
        var decode = builder.AddVllmDecode("decode-0", model: "/data/m/");
        var prefill = builder.AddVllmPrefill("prefill-0", model: "/data/m/")
            .WithEnvironment("PEER", ReferenceExpression.Create($"tcp://{decode.GetEndpoint("http").Property(EndpointProperty.Host)}:{{x}}/{decode.GetEndpoint("http").Property(EndpointProperty.TargetPort)}"));
        builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName, port: 8000);

        var snapshot = await ReadAsync(builder);

        var peer = snapshot.FindEngine("prefill-0")!.Environment.Single(e => e.Key == "PEER").Value;
        Assert.Equal(
            [new LiteralPart("tcp://"), new EndpointPart("decode-0", "http", EndpointProperty.Host), new LiteralPart(":{x}/"), new EndpointPart("decode-0", "http", EndpointProperty.TargetPort)],
            peer.Parts);

        var network = new ComposeNetwork(snapshot, new PdComposeOptions().Subnet);
        Assert.Equal("tcp://decode-0:{x}/8200", network.Render(peer, fromHostNetwork: false));

        // In a cluster decode-0 is one of the decode role's interchangeable pods, reached through the role's Service.
        Assert.Equal("tcp://decode:{x}/8200", new KubernetesValues(snapshot, KubernetesRoleGroup.From(snapshot), new PdKubernetesOptions()).Render(peer));
    }

    [Fact]
    public async Task NonSecretParameter_KeepsItsConfiguredValueAndSecretsNever()
    {
        var builder = CreateBuilder("--Parameters:served-name=pd-model", "--Parameters:token=hunter2");
        var served = builder.AddParameter("served-name");
        var token = builder.AddParameter("token", secret: true);
        builder.AddVllmPrefill("prefill-0", model: "/data/m/").WithEnvironment("SERVED", served).WithHuggingFaceToken(token);
        builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName, port: 8000);

        var snapshot = await ReadAsync(builder);

        Assert.Equal(
            [new DeploymentParameter("served-name", false, "pd-model"), new DeploymentParameter("token", true, null)],
            snapshot.Parameters.OrderBy(p => p.Name));
        var environment = snapshot.FindEngine("prefill-0")!.Environment.ToDictionary(e => e.Key, e => e.Value);
        var values = new KubernetesValues(snapshot, KubernetesRoleGroup.From(snapshot), new PdKubernetesOptions());
        Assert.Equal("pd-model", values.Render(environment["SERVED"]));
        Assert.Equal("$(TOKEN)", values.Render(environment["HF_TOKEN"]));
    }

    [Fact]
    public async Task OldImageFlavour_StartsPython3WithTheApiServerModule()
    {
        var builder = CreateBuilder();
        builder.AddVllmPrefill("prefill-0", model: "/data/m/").WithVllmEntrypoint(VllmEntrypoint.OpenAiApiServer).WithGpus();
        builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName, port: 8000);

        var engine = (await ReadAsync(builder)).Engines.Single();

        Assert.Equal("python3", engine.Entrypoint);
        Assert.Equal(["-m", "vllm.entrypoints.openai.api_server", "--model", "/data/m/"], engine.Args.Take(4).Select(a => a.ToString()));
        Assert.Equal(PdRole.Prefill, engine.Role);
        Assert.True(engine.Gpus.All);
        Assert.Equal(1, engine.Gpus.Count);
    }

    [Fact]
    public async Task SimulatorProjects_AreRejectedNamingTheBackendSetting()
    {
        var builder = CreateBuilder();
        builder.AddProject<Projects.PdApp_Simulator>("prefill-0", launchProfileName: null);
        builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ReadAsync(builder));
        Assert.Contains("Pd:Backend", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExternalBackend_ComposeHoldsOnlyTheProxyPointedAtTheExternalUrls()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, "--PdConfig=examples/external.json", "--Pd:Backend=external");
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        Assert.Equal(["proxy"], compose.ServiceNames);
        var environment = compose.Service("proxy").Map("environment");
        Assert.Equal("http://10.0.0.13:8200/", environment["services__decode-1__http__0"]);
        Assert.Equal("NixlConnector", environment["Pd__Connector"]);
        Assert.False(compose.Service("proxy").Has("depends_on"));
    }

    private static IDistributedApplicationBuilder CreateBuilder(params string[] args) =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = ["--publisher", "manifest", .. args], DisableDashboard = true });

    private static async Task<DeploymentSnapshot> ReadAsync(IDistributedApplicationBuilder builder)
    {
        // The model is read without Build(): nothing starts and nothing needs disposing.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await new DeploymentModelReader(NullLogger.Instance).ReadAsync(new DistributedApplicationModel(builder.Resources), timeout.Token);
    }
}
