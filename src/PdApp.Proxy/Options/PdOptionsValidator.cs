using Microsoft.Extensions.Options;
using PdApp.Protocol;

namespace PdApp.Proxy.Options;

/// <summary>Start-up validation of <see cref="PdOptions"/>; every failure names its setting.</summary>
internal sealed class PdOptionsValidator : IValidateOptions<PdOptions>
{
    public ValidateOptionsResult Validate(string? name, PdOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Connector))
        {
            failures.Add($"{PdProxySettings.Connector} is required: one of {string.Join(", ", KvConnectorNames.All)}.");
        }
        else if (!KvConnectorNames.All.Contains(options.Connector))
        {
            failures.Add($"{PdProxySettings.Connector} '{options.Connector}' is not supported: use one of {string.Join(", ", KvConnectorNames.All)}.");
        }
        else if (options.Connector == KvConnectorNames.Multi)
        {
            if (options.ChildConnectors.Count == 0)
            {
                failures.Add($"{PdProxySettings.ChildConnectors} must list the MultiConnector's children when {PdProxySettings.Connector} is {KvConnectorNames.Multi}.");
            }

            for (var i = 0; i < options.ChildConnectors.Count; i++)
            {
                var child = options.ChildConnectors[i];
                if (!KvConnectorNames.All.Contains(child) || child == KvConnectorNames.Multi)
                {
                    failures.Add($"{PdProxySettings.ChildConnectors}:{i} '{child}' is not a supported child connector.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
