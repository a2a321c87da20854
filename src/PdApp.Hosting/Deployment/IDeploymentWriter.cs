using PdApp.Hosting.Deployment.Model;

namespace PdApp.Hosting.Deployment;

/// <summary>
/// Writes the deployment files of one target (compose, Kubernetes) from a <see cref="DeploymentSnapshot"/>.
/// The one seam between the app model and a file format: a writer built on another library (for example
/// Aspire.Hosting.Docker, not served here) replaces an implementation without touching the reader or the
/// publishing step.
/// </summary>
public interface IDeploymentWriter
{
    /// <summary>The publisher name that selects the writer (<c>--publisher compose</c>).</summary>
    string Name { get; }

    /// <summary>Writes the files into <paramref name="outputDirectory"/>, creating it if needed.</summary>
    /// <param name="snapshot">What the app model declares.</param>
    /// <param name="outputDirectory">The folder.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The full paths of the files written.</returns>
    Task<IReadOnlyList<string>> WriteAsync(DeploymentSnapshot snapshot, string outputDirectory, CancellationToken cancellationToken = default);
}
