using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Proxy.Options;

/// <summary>Start-up validation of <see cref="PdOptions"/>; every failure names its setting.</summary>
internal sealed class PdOptionsValidator : IValidateOptions<PdOptions>
{
    public ValidateOptionsResult Validate(string? name, PdOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Connector))
        {
            failures.Add($"{PdProxySettings.Connector} is required: one of {string.Join(", ", ConnectorCatalog.Names)}.");
        }
        else if (!ConnectorCatalog.TryGet(options.Connector, out var connector))
        {
            failures.Add($"{PdProxySettings.Connector} '{options.Connector}' is not supported: use one of {string.Join(", ", ConnectorCatalog.Names)}.");
        }
        else if (connector.IsComposite)
        {
            if (options.ChildConnectors.Count == 0)
            {
                failures.Add($"{PdProxySettings.ChildConnectors} must list the MultiConnector's children when {PdProxySettings.Connector} is {connector.Name}.");
            }

            for (var i = 0; i < options.ChildConnectors.Count; i++)
            {
                var child = options.ChildConnectors[i];
                if (!ConnectorCatalog.TryGet(child, out var childTraits) || childTraits.IsComposite)
                {
                    failures.Add($"{PdProxySettings.ChildConnectors}:{i} '{child}' is not a supported child connector.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
