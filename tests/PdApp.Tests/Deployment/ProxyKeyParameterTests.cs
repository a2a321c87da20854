using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using k8s;
using k8s.Models;

namespace PdApp.Tests.Deployment;

/// <summary>
/// The proxy's client key (<c>Pd:ApiKey</c>) and admin key (<c>Pd:AdminApiKey</c>) are secret Aspire parameters, never
/// literals: in Aspire's manifest, compose's <c>.env</c> and the Kubernetes Secret references.
/// </summary>
public sealed class ProxyKeyParameterTests : IDisposable
{
    private const string ClientKeyValue = "configured-client-key-value";
    private const string AdminKeyValue = "configured-admin-key-value";

    private static readonly string[] WithProxyKeys =
    [
        "--Pd:UseClientApiKey=true", "--Pd:UseAdminApiKey=true",
        $"--Parameters:{PdTopologyBuilderExtensions.ClientApiKeyParameterName}={ClientKeyValue}",
        $"--Parameters:{PdTopologyBuilderExtensions.AdminApiKeyParameterName}={AdminKeyValue}",
    ];

    private readonly string _folder = Directory.CreateTempSubdirectory("pdapp-keys-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task KeysEnabled_AppModelHasSecretParametersTheProxyReadsAsPdApiKeyAndPdAdminApiKey()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["--publisher", "manifest", "--output-path", Path.Combine(_folder, "unused.json"), "--Pd:Backend=vllm", .. WithProxyKeys], timeout.Token);

        var parameters = appHost.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);
        Assert.True(parameters[PdTopologyBuilderExtensions.ClientApiKeyParameterName].Secret);
        Assert.True(parameters[PdTopologyBuilderExtensions.AdminApiKeyParameterName].Secret);

        // Aspire generates a value in run mode when none is configured (as for its own passwords).
        Assert.IsType<GenerateParameterDefault>(parameters[PdTopologyBuilderExtensions.AdminApiKeyParameterName].Default);
        Assert.IsType<GenerateParameterDefault>(parameters[PdTopologyBuilderExtensions.ClientApiKeyParameterName].Default);
    }

    [Fact]
    public async Task KeysOff_NoParametersAndNoProxyKeySettings()
    {
        var manifest = await PublishManifestAsync();

        Assert.False(manifest.TryGetProperty(PdTopologyBuilderExtensions.ClientApiKeyParameterName, out _));
        Assert.False(manifest.TryGetProperty(PdTopologyBuilderExtensions.AdminApiKeyParameterName, out _));
        var env = manifest.GetProperty("proxy").GetProperty("env");
        Assert.False(env.TryGetProperty("Pd__ApiKey", out _));
        Assert.False(env.TryGetProperty("Pd__AdminApiKey", out _));
    }

    [Fact]
    public async Task Manifest_DeclaresSecretParametersAndReferencesThemWithoutValues()
    {
        var text = await PublishManifestTextAsync(WithProxyKeys);
        Assert.DoesNotContain(ClientKeyValue, text, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminKeyValue, text, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(text);
        var resources = doc.RootElement.GetProperty("resources");

        foreach (var name in new[] { PdTopologyBuilderExtensions.ClientApiKeyParameterName, PdTopologyBuilderExtensions.AdminApiKeyParameterName })
        {
            var parameter = resources.GetProperty(name);
            Assert.Equal("parameter.v0", parameter.GetProperty("type").GetString());
            var input = parameter.GetProperty("inputs").GetProperty("value");
            Assert.True(input.GetProperty("secret").GetBoolean());
            Assert.Equal(32, input.GetProperty("default").GetProperty("generate").GetProperty("minLength").GetInt32());
        }

        var env = resources.GetProperty("proxy").GetProperty("env");
        Assert.Equal("{pdapp-api-key.value}", env.GetProperty("Pd__ApiKey").GetString());
        Assert.Equal("{pdapp-admin-api-key.value}", env.GetProperty("Pd__AdminApiKey").GetString());
    }

    [Fact]
    public async Task Compose_ReferencesTheKeysAndListsThemEmptyInTheEnvFile()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, WithProxyKeys);
        var composeText = published.Read(ComposeWriter.ComposeFileName);
        var envText = published.Read(ComposeWriter.EnvFileName);
        foreach (var value in new[] { ClientKeyValue, AdminKeyValue })
        {
            Assert.DoesNotContain(value, composeText, StringComparison.Ordinal);
            Assert.DoesNotContain(value, envText, StringComparison.Ordinal);
        }

        var proxy = ComposeDocument.Parse(composeText).Service("proxy").Map("environment");
        Assert.Equal("${PDAPP_API_KEY:?set PDAPP_API_KEY in .env (Aspire parameter pdapp-api-key)}", proxy["Pd__ApiKey"]);
        Assert.Equal("${PDAPP_ADMIN_API_KEY:?set PDAPP_ADMIN_API_KEY in .env (Aspire parameter pdapp-admin-api-key)}", proxy["Pd__AdminApiKey"]);
        var env = envText.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal(["PDAPP_ADMIN_API_KEY=", "PDAPP_API_KEY="], env.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Kubernetes_ProxyReadsTheKeysFromTheSecret()
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, WithProxyKeys);
        var text = published.Read(KubernetesWriter.ManifestFileName);
        Assert.DoesNotContain(ClientKeyValue, text, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminKeyValue, text, StringComparison.Ordinal);
        var objects = KubernetesYaml.LoadAllFromString(text).Cast<IKubernetesObject<V1ObjectMeta>>().ToList();

        var proxy = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "proxy").Spec.Template.Spec.Containers.Single();
        foreach (var (variable, key) in new[] { ("Pd__ApiKey", "pdapp-api-key"), ("Pd__AdminApiKey", "pdapp-admin-api-key") })
        {
            var env = proxy.Env.Single(e => e.Name == variable);
            Assert.Null(env.Value);
            Assert.Equal(("pdapp-secrets", key), (env.ValueFrom.SecretKeyRef.Name, env.ValueFrom.SecretKeyRef.Key));
        }

        var configMap = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.DoesNotContain("Pd__ApiKey", configMap.Keys);
        Assert.DoesNotContain("Pd__AdminApiKey", configMap.Keys);
    }

    [Theory]
    [InlineData(true, true, "Open")]
    [InlineData(true, false, null)]
    [InlineData(false, true, null)]
    public async Task Kubernetes_AnnotationScrapeOfAProxyWithKeys_OpensMetricsRatherThanGetting401(bool keys, bool annotations, string? expected)
    {
        // Prometheus' annotation scrape sends no bearer token; a key-protected /metrics would answer it 401.
        using var published = await DeploymentPublishing.PublishAsync(
            KubernetesWriter.PublisherName, [.. keys ? WithProxyKeys : [], $"--Pd:Kubernetes:PrometheusAnnotations={annotations}"]);
        var objects = KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName)).Cast<IKubernetesObject<V1ObjectMeta>>().ToList();

        var configMap = objects.OfType<V1ConfigMap>().Single().Data;

        Assert.Equal(expected, configMap.TryGetValue("Pd__MetricsAccess", out var access) ? access : null);
    }

    private async Task<JsonElement> PublishManifestAsync(params string[] settings)
    {
        using var doc = JsonDocument.Parse(await PublishManifestTextAsync(settings));
        return doc.RootElement.GetProperty("resources").Clone();
    }

    private async Task<string> PublishManifestTextAsync(params string[] settings)
    {
        // Aspire's own manifest publisher (--publisher manifest), as `aspire publish` runs it.
        var path = Path.Combine(_folder, "manifest.json");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["--publisher", "manifest", "--output-path", path, "--Pd:Backend=vllm", .. settings], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        await app.StartAsync(timeout.Token);
        await stopping.Task.WaitAsync(timeout.Token);
        return await File.ReadAllTextAsync(path, timeout.Token);
    }
}
