using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Json.Schema;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PdApp.Hosting.Manifest;

namespace PdApp.Tests.Deployment;

/// <summary>
/// The published Aspire manifest is valid against the official schema (<c>Data/aspire-8.0.json</c>, copied from
/// dotnet/aspire), which azd and other consumers read it with; the GPU facts the schema has no place for are in the
/// side file <c>&lt;manifest&gt;.pd.json</c>.
/// </summary>
public sealed class AspireManifestSchemaTests : IDisposable
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Deployment", "Data", "aspire-8.0.json"))));

    private readonly string _folder = Directory.CreateTempSubdirectory("pdapp-manifest-schema-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> Examples => new() { "shared-storage", "nixl", "lmcache", "multi", "p2pnccl", "pynccl" };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Manifest_IsValidAgainstTheOfficialSchemaAndTheGpuFactsAreInTheSideFile(string example)
    {
        var path = await ManifestPublishing.PublishAsync(_folder, $"--PdConfig=examples/{example}.json", "--Pd:UseHuggingFaceToken=true", "--Pd:UseApiKey=true");
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(path));

        var result = Schema.Value.Evaluate(manifest.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, Describe(result));

        // The proxy is the clients' entry point: its http binding is external.
        var resources = manifest.RootElement.GetProperty("resources");
        Assert.True(resources.GetProperty("proxy").GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());

        // Every vLLM container's runtime args and PD facts are in the side file, under the same resource name.
        var side = JsonNode.Parse(await File.ReadAllTextAsync(PdManifestSideFile.PathFor(path)))!["resources"]!.AsObject();
        var containers = resources.EnumerateObject().Where(r => r.Value.GetProperty("type").GetString()!.StartsWith("container.", StringComparison.Ordinal)).Select(r => r.Name).ToList();
        Assert.NotEmpty(containers);
        Assert.Equal(containers.Order(StringComparer.Ordinal), side.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.All(side, p => Assert.NotEmpty(p.Value!["runtimeArgs"]!.AsArray()));
        Assert.All(side, p => Assert.NotNull(p.Value!["pd"]!["role"]));
    }

    [Fact]
    public async Task Schema_RejectsAContainerCarryingExtraProperties()
    {
        // The check can fail: the fields the manifest used to carry are what the schema forbids.
        var path = await ManifestPublishing.PublishAsync(_folder);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        manifest["resources"]!["prefill-0"]!["runtimeArgs"] = new JsonArray("--ipc=host");
        using var document = JsonDocument.Parse(manifest.ToJsonString());

        Assert.False(Schema.Value.Evaluate(document.RootElement).IsValid);
    }

    private static string Describe(EvaluationResults result) =>
        string.Join(
            Environment.NewLine,
            (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))
                .Take(30));
}

/// <summary>Publishes the real app host's manifest (<c>--publisher manifest --output-path</c>) and waits until it is written.</summary>
internal static class ManifestPublishing
{
    public static async Task<string> PublishAsync(string folder, params string[] settings)
    {
        var path = Path.Combine(folder, "aspire-manifest.json");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["--publisher", "manifest", "--output-path", path, "--Pd:Backend=vllm", .. settings], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);

        // In publish mode the app host stops itself once the manifest is completely written.
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        var watch = Stopwatch.StartNew();
        await app.StartAsync(timeout.Token);
        await stopping.Task.WaitAsync(timeout.Token);
        return path;
    }
}
