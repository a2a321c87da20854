using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Logging.Abstractions;

namespace PdApp.Tests.Hosting;

/// <summary>Builds app models without running them and evaluates what a resource would be started with.</summary>
internal static class AppModel
{
    public static IDistributedApplicationBuilder CreateBuilder(params string[] args) =>
        DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = args, DisableDashboard = true });

    /// <summary>
    /// Arguments and environment as the publisher evaluates them (references come back as manifest
    /// expressions such as <c>{hf-token.value}</c>; Run mode would wait for endpoint allocation forever).
    /// </summary>
    public static async Task<(IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Env)> EvaluateAsync(IResource resource)
    {
        var result = await ExecutionConfigurationBuilder.Create(resource)
            .WithArgumentsConfig()
            .WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, CancellationToken.None);
        if (result.Exception is not null)
        {
            throw result.Exception;
        }

        return (result.Arguments.Select(a => a.Value).ToList(), result.EnvironmentVariables.ToDictionary(e => e.Key, e => e.Value));
    }
}
