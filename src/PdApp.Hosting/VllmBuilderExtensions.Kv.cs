using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Hosting.KvConnectors;

namespace Aspire.Hosting;

// KV transfer for vLLM containers: --kv-transfer-config and the connector's environment.
public static partial class VllmBuilderExtensions
{
    /// <summary>Configures KV transfer: <c>--kv-transfer-config</c> and the connector's environment.</summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="connector">The connector, created for this instance's role.</param>
    /// <returns>The resource builder.</returns>
    /// <exception cref="ArgumentException">The connector was created for another role.</exception>
    public static IResourceBuilder<VllmResource> WithKvConnector(this IResourceBuilder<VllmResource> builder, KvConnector connector)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connector);
        if (connector.Role != builder.Resource.Role)
        {
            throw new ArgumentException(
                $"The connector was created for role {connector.Role}, but '{builder.Resource.Name}' is {builder.Resource.Role}.",
                nameof(connector));
        }

        builder.Resource.KvConnector = connector;
        builder.Resource.Arguments.KvTransferConfigJson = connector.ToJson();
        return builder;
    }

    private static void AddKvEnvironment(VllmResource resource, IDictionary<string, object> environment)
    {
        if (resource.KvConnector is { } connector)
        {
            foreach (var (key, value) in connector.EnvironmentVariables)
            {
                environment[key] = value;
            }
        }
    }
}
