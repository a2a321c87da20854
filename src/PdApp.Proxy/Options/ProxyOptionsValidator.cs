using Microsoft.Extensions.Options;
using PdApp.Protocol.Connectors;

namespace PdApp.Proxy.Options;

/// <summary>
/// Start-up validation of <see cref="ProxyOptions"/>; every failure names its setting. Also
/// rejects decode-only settings for connectors whose decode instance cannot prefill alone.
/// </summary>
internal sealed class ProxyOptionsValidator(IOptions<PdOptions> pdOptions) : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var failures = new List<string>();
        const string S = ProxyOptions.Section;

        Positive(options.MaxRequestBodyBytes, $"{S}:MaxRequestBodyBytes");
        NonNegative(options.ShutdownTimeoutSeconds, $"{S}:ShutdownTimeoutSeconds");

        Positive(options.Timeouts.ConnectSeconds, $"{S}:Timeouts:ConnectSeconds");
        Positive(options.Timeouts.PrefillSeconds, $"{S}:Timeouts:PrefillSeconds");
        Positive(options.Timeouts.DecodeIdleSeconds, $"{S}:Timeouts:DecodeIdleSeconds");
        Positive(options.Timeouts.DecodeNonStreamingSeconds, $"{S}:Timeouts:DecodeNonStreamingSeconds");

        NonNegative(options.Disaggregation.SkipPrefillBelowTokens, $"{S}:Disaggregation:SkipPrefillBelowTokens");
        Positive(options.Disaggregation.MaxPrefillResponseBytes, $"{S}:Disaggregation:MaxPrefillResponseBytes");

        Positive(options.Admission.MaxConcurrentRequests, $"{S}:Admission:MaxConcurrentRequests");
        NonNegative(options.Admission.MaxQueueLength, $"{S}:Admission:MaxQueueLength");
        Positive(options.Admission.QueueTimeoutSeconds, $"{S}:Admission:QueueTimeoutSeconds");
        NonNegative(options.Admission.RequestsPerSecond, $"{S}:Admission:RequestsPerSecond");
        NonNegative(options.Admission.Burst, $"{S}:Admission:Burst");
        NonNegative(options.Admission.RetryAfterSeconds, $"{S}:Admission:RetryAfterSeconds");

        // PyNccl's and P2pNccl's decode instance waits for KV that only a prefill can send:
        // sending it a request alone would hang, not degrade.
        var pd = pdOptions.Value;
        if (ConnectorCatalog.TryResolve(pd.Connector, pd.ChildConnectors, out var connector))
        {
            if (options.DecodeOnlyFallback && !connector.DecodeCanPrefillAlone)
            {
                failures.Add($"{S}:DecodeOnlyFallback cannot be true with {pd.Connector}: its decode instance waits for KV from a prefill instance.");
            }

            if (options.Disaggregation.SkipPrefillBelowTokens > 0 && !connector.DecodeCanSkipPrefill)
            {
                failures.Add($"{S}:Disaggregation:SkipPrefillBelowTokens must be 0 with {pd.Connector}: its decode instance waits for KV from a prefill instance.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(double value, string key)
        {
            if (!(value > 0))
            {
                failures.Add($"{key} must be greater than 0 (was {value}).");
            }
        }

        void NonNegative(double value, string key)
        {
            if (!(value >= 0))
            {
                failures.Add($"{key} must be 0 or greater (was {value}).");
            }
        }
    }
}
