using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using PdApp.Hosting.Deployment.Publishing;

namespace PdApp.Tests.Deployment;

/// <summary>
/// Publishes the real app host's model: its Program.cs runs (through the testing builder) up to Build with the
/// given settings, then the same publisher the <c>--publisher</c> pipeline step uses writes the files.
/// </summary>
internal static class DeploymentPublishing
{
    public static async Task<Published> PublishAsync(string publisher, params string[] settings)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = Directory.CreateTempSubdirectory("pdapp-" + publisher + "-").FullName;
        try
        {
            return await PublishToAsync(publisher, output, settings, timeout.Token);
        }
        catch
        {
            TempFolder.Delete(output);
            throw;
        }
    }

    private static async Task<Published> PublishToAsync(string publisher, string output, string[] settings, CancellationToken cancellationToken)
    {
        string[] args = ["--publisher", publisher, "--Pd:Backend=vllm", .. settings];
        await using var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(args, cancellationToken);
        var model = new DistributedApplicationModel(appHost.Resources);
        var files = await new PdDeploymentPublisher(appHost.Configuration, NullLoggerFactory.Instance)
            .PublishAsync(model, publisher, output, cancellationToken);

        // The model's own view of each engine's arguments, to compare the written command with.
        var args0 = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var vllm in model.Resources.OfType<PdApp.Hosting.VllmResource>())
        {
            var configuration = await ExecutionConfigurationBuilder.Create(vllm)
                .WithArgumentsConfig()
                .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, cancellationToken);
            args0[vllm.Name] = [.. configuration.Arguments.Select(a => a.Value)];
        }

        // The written text is kept, so a test may read it after the folder is gone.
        var texts = System.IO.Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(output, f), f => File.ReadAllText(f), StringComparer.Ordinal);
        return new Published(output, files, args0, texts);
    }

    /// <summary>
    /// What was written (the folder and each file's text as published), and the model's arguments per engine
    /// (manifest expressions for references); disposing it deletes the written folder.
    /// </summary>
    public sealed record Published(
        string Directory,
        IReadOnlyList<string> Files,
        IReadOnlyDictionary<string, IReadOnlyList<string>> ModelArgs,
        IReadOnlyDictionary<string, string> Texts) : IDisposable
    {
        /// <summary>The text of a written file, by its path relative to <see cref="Directory"/>.</summary>
        public string Read(string fileName) => Texts[fileName];

        public void Dispose() => TempFolder.Delete(Directory);
    }
}
