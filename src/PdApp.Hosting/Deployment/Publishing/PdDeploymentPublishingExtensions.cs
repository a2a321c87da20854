// The pipeline API is how Aspire 13 publishes (the manifest included); it is marked for evaluation, and this
// file is the only place that uses it, so a change there stays here.
#pragma warning disable ASPIREPIPELINES001, ASPIREPIPELINES004

using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using PdApp.Hosting.Deployment.Publishing;

namespace Aspire.Hosting;

/// <summary>
/// Adds the <c>compose</c> and <c>kubernetes</c> publishers to the app host as Aspire pipeline steps
/// (<see cref="ComposeStepName"/>, <see cref="KubernetesStepName"/>).
/// </summary>
/// <remarks>
/// Aspire 13 publishes through pipeline steps: <c>--publisher X</c> only switches the app host into publish
/// mode (custom <c>IDistributedApplicationPublisher</c>s are obsolete and no longer looked up by name), and
/// <c>--publisher manifest</c> works because Aspire maps it to the <c>publish-manifest</c> step. This does
/// the same for our names: <c>--publisher compose</c> selects <see cref="ComposeStepName"/> unless a
/// <c>--step</c> is given; <c>--output-path</c> is the pipeline's output folder. The steps read the built
/// model and exit; nothing starts.
/// </remarks>
public static class PdDeploymentPublishingExtensions
{
    /// <summary>The pipeline step writing <c>compose.yaml</c> and <c>.env</c>.</summary>
    public const string ComposeStepName = "publish-pd-compose";

    /// <summary>The pipeline step writing the Kubernetes manifests.</summary>
    public const string KubernetesStepName = "publish-pd-kubernetes";

    private const string PublisherKey = "Publishing:Publisher";
    private const string StepKey = "Pipeline:Step";

    /// <summary>Registers the steps and maps <c>--publisher compose|kubernetes</c> to them.</summary>
    /// <param name="builder">The application builder.</param>
    /// <returns>The builder.</returns>
    public static IDistributedApplicationBuilder AddPdDeploymentPublishers(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddStep(builder, ComposeStepName, ComposeWriter.PublisherName);
        AddStep(builder, KubernetesStepName, KubernetesWriter.PublisherName);

        // A relative --output-path means the folder the user typed the command in, for every publisher (the
        // manifest too), not the app host's project folder that `dotnet run` starts in.
        if (builder.Configuration[PublishOutputPath.ConfigurationKey] is { Length: > 0 } outputPath && !Path.IsPathRooted(outputPath))
        {
            builder.Configuration[PublishOutputPath.ConfigurationKey] =
                PublishOutputPath.Resolve(outputPath, Environment.GetEnvironmentVariable("PWD"), Environment.CurrentDirectory);
        }

        // Compose builds the proxy from this repository when its Dockerfile is there (src/PdApp.AppHost/../..).
        var composeSourceRoot = PdComposeOptions.SectionName + ":" + nameof(PdComposeOptions.ProxySourceRoot);
        if (builder.Configuration[composeSourceRoot] is null)
        {
            var root = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".."));
            if (File.Exists(Path.Combine(root, PdComposeOptions.ProxyDockerfile)))
            {
                builder.Configuration[composeSourceRoot] = root;
            }
        }

        var publisher = builder.Configuration[PublisherKey];
        if (string.IsNullOrEmpty(builder.Configuration[StepKey]))
        {
            if (string.Equals(publisher, ComposeWriter.PublisherName, StringComparison.OrdinalIgnoreCase))
            {
                builder.Configuration[StepKey] = ComposeStepName;
            }
            else if (string.Equals(publisher, KubernetesWriter.PublisherName, StringComparison.OrdinalIgnoreCase))
            {
                builder.Configuration[StepKey] = KubernetesStepName;
            }
        }

        return builder;
    }

    private static void AddStep(IDistributedApplicationBuilder builder, string stepName, string publisherName) =>
        builder.Pipeline.AddStep(stepName, async context =>
        {
            var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            var publisher = new PdDeploymentPublisher(
                context.Services.GetRequiredService<IConfiguration>(),
                context.Services.GetRequiredService<ILoggerFactory>());
            var files = await publisher.PublishAsync(context.Model, publisherName, output, context.CancellationToken).ConfigureAwait(false);
            context.Logger.LogInformation("{Publisher} deployment written: {Files}", publisherName, string.Join(", ", files));
        });
}
