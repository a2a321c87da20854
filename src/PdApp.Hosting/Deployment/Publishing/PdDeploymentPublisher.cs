using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using PdApp.Hosting.Deployment.Model;

namespace PdApp.Hosting.Deployment.Publishing;

/// <summary>
/// Publishes a built app model for one target: reads the model (<see cref="DeploymentModelReader"/>) and hands
/// it to the target's <see cref="IDeploymentWriter"/>. The app host's pipeline step calls it; so can tests, on
/// a model built the same way.
/// </summary>
/// <param name="configuration">Where the writers' settings (<c>Pd:Compose</c>, <c>Pd:Kubernetes</c>) are read.</param>
/// <param name="loggerFactory">Creates the loggers.</param>
public sealed class PdDeploymentPublisher(IConfiguration configuration, ILoggerFactory loggerFactory)
{
    /// <summary>The publisher names this class handles.</summary>
    public static IReadOnlyList<string> PublisherNames { get; } = [ComposeWriter.PublisherName, KubernetesWriter.PublisherName];

    /// <summary>Creates the writer for <paramref name="publisherName"/>, with its settings read and validated.</summary>
    /// <param name="publisherName"><c>compose</c> or <c>kubernetes</c>.</param>
    /// <returns>The writer.</returns>
    /// <exception cref="ArgumentException">Unknown publisher.</exception>
    /// <exception cref="InvalidOperationException">Invalid settings; the message names each.</exception>
    public IDeploymentWriter CreateWriter(string publisherName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(publisherName);
        IDeploymentWriter writer;
        IReadOnlyList<string> errors;
        if (publisherName.Equals(ComposeWriter.PublisherName, StringComparison.OrdinalIgnoreCase))
        {
            var options = Bind<PdComposeOptions>(PdComposeOptions.SectionName);
            errors = options.Validate();
            writer = new ComposeWriter(options, loggerFactory.CreateLogger<ComposeWriter>());
        }
        else if (publisherName.Equals(KubernetesWriter.PublisherName, StringComparison.OrdinalIgnoreCase))
        {
            var options = Bind<PdKubernetesOptions>(PdKubernetesOptions.SectionName);
            errors = options.Validate();
            writer = new KubernetesWriter(options, loggerFactory.CreateLogger<KubernetesWriter>());
        }
        else
        {
            throw new ArgumentException($"Unknown publisher '{publisherName}'; expected one of {string.Join(", ", PublisherNames)}.", nameof(publisherName));
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        return writer;
    }

    /// <summary>Writes the <paramref name="publisherName"/> deployment of <paramref name="model"/> into <paramref name="outputDirectory"/>.</summary>
    /// <param name="model">The built, never started, app model.</param>
    /// <param name="publisherName"><c>compose</c> or <c>kubernetes</c>.</param>
    /// <param name="outputDirectory">The folder.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The files written.</returns>
    public async Task<IReadOnlyList<string>> PublishAsync(
        DistributedApplicationModel model, string publisherName, string outputDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var writer = CreateWriter(publisherName);
        var snapshot = await new DeploymentModelReader(loggerFactory.CreateLogger<DeploymentModelReader>())
            .ReadAsync(model, cancellationToken)
            .ConfigureAwait(false);
        return await writer.WriteAsync(WithProxyDrain(snapshot), Path.GetFullPath(outputDirectory), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Carries the app host's <c>Pd:Proxy:ShutdownTimeoutSeconds</c> to the deployed proxy (its environment) and to
    /// the writers' stop grace periods, which must be longer than the drain.
    /// </summary>
    private DeploymentSnapshot WithProxyDrain(DeploymentSnapshot snapshot)
    {
        var gateway = snapshot.Gateway;
        if (!int.TryParse(configuration[ProxyShutdownTimeoutKey], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || gateway.Environment.Any(e => e.Key == DeploymentModelReader.ShutdownTimeoutVariable))
        {
            return snapshot;
        }

        return snapshot with
        {
            Gateway = gateway with
            {
                Environment = [.. gateway.Environment, new(DeploymentModelReader.ShutdownTimeoutVariable, DeploymentValue.Literal(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)))],
                DrainSeconds = seconds,
            },
        };
    }

    private const string ProxyShutdownTimeoutKey = "Pd:Proxy:ShutdownTimeoutSeconds";

    private T Bind<T>(string section)
        where T : new()
    {
        var options = new T();
        configuration.GetSection(section).Bind(options);
        return options;
    }
}
