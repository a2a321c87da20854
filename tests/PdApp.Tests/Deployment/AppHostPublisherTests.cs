using System.Diagnostics;
using k8s;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;

namespace PdApp.Tests.Deployment;

/// <summary>The command users run: the app host itself with <c>--publisher compose|kubernetes --output-path</c>.</summary>
public sealed class AppHostPublisherTests
{
    [Fact]
    public async Task PublisherCompose_WritesComposeAndEnvFilesAndExitsZero()
    {
        var output = Directory.CreateTempSubdirectory("pdapp-apphost-compose-").FullName;

        var (exitCode, log) = await RunAppHostAsync("--publisher", "compose", "--output-path", output, "--PdConfig", "examples/p2pnccl.json");

        Assert.True(exitCode == 0, log);
        var compose = ComposeDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, ComposeWriter.ComposeFileName)));
        Assert.Equal(["prefill-0", "decode-0", "decode-1", "decode-2", "proxy"], compose.ServiceNames);
        Assert.True(File.Exists(Path.Combine(output, ComposeWriter.EnvFileName)));
    }

    [Fact]
    public async Task PublisherKubernetes_WritesTheManifestAndExitsZero()
    {
        var output = Directory.CreateTempSubdirectory("pdapp-apphost-k8s-").FullName;

        var (exitCode, log) = await RunAppHostAsync("--publisher", "kubernetes", "--output-path", output, "--Pd:Kubernetes:Namespace=pd-test");

        Assert.True(exitCode == 0, log);
        var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(output, KubernetesWriter.ManifestFileName)));
        Assert.Equal(8, objects.Count); // Namespace, per role a Service and a Deployment, the proxy's ConfigMap, Deployment and Service.
        Assert.All(objects.Skip(1).Cast<IKubernetesObject<k8s.Models.V1ObjectMeta>>(), o => Assert.Equal("pd-test", o.Metadata.NamespaceProperty));
        Assert.Contains("kubernetes deployment written", log, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Log)> RunAppHostAsync(params string[] args)
    {
        // The app host as built next to the tests (the test project references it), run from its project
        // folder as `dotnet run` does, so examples/ and appsettings.json resolve the same way.
        var projectDirectory = Path.GetDirectoryName(Projects.PdApp_AppHost.ProjectPath)!;
        var dll = Path.Combine(AppContext.BaseDirectory, "PdApp.AppHost.dll");
        Assert.True(File.Exists(dll), $"App host not built at {dll}");

        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = projectDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
