using Microsoft.Extensions.Configuration;

namespace PdApp.Hosting.Containers;

/// <summary>Finds the container engine Aspire will start containers with, from the same settings Aspire reads.</summary>
public static class ContainerRuntimeSelection
{
    /// <summary>The setting Aspire reads first (an environment variable, so also a configuration key).</summary>
    public const string RuntimeKey = "ASPIRE_CONTAINER_RUNTIME";

    /// <summary>The older name of <see cref="RuntimeKey"/>, still honoured by Aspire.</summary>
    public const string LegacyRuntimeKey = "DOTNET_ASPIRE_CONTAINER_RUNTIME";

    /// <summary>Aspire's DCP option for the same choice.</summary>
    public const string DcpRuntimeKey = "DcpPublisher:ContainerRuntime";

    /// <summary>
    /// The runtime named by <see cref="RuntimeKey"/>, else <see cref="LegacyRuntimeKey"/>, else <see cref="DcpRuntimeKey"/>;
    /// <see cref="ContainerRuntimeKind.Docker"/> when none is set (Aspire's default).
    /// </summary>
    /// <param name="configuration">The app host's configuration (environment variables included).</param>
    /// <returns>The runtime.</returns>
    /// <exception cref="InvalidOperationException">The setting names a runtime other than <c>docker</c> or <c>podman</c>.</exception>
    public static ContainerRuntimeKind FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var key in new[] { RuntimeKey, LegacyRuntimeKey, DcpRuntimeKey })
        {
            if (configuration[key] is { Length: > 0 } value)
            {
                return value.Trim().ToLowerInvariant() switch
                {
                    "docker" => ContainerRuntimeKind.Docker,
                    "podman" => ContainerRuntimeKind.Podman,
                    _ => throw new InvalidOperationException($"{key} is '{value}'; GPU containers support 'docker' or 'podman'."),
                };
            }
        }

        return ContainerRuntimeKind.Docker;
    }
}
