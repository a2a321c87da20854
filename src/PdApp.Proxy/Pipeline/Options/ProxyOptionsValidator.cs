using Microsoft.Extensions.Options;
using PdApp.Protocol.Connectors;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Pipeline.Options;

/// <summary>
/// Start-up validation of <see cref="ProxyOptions"/>; every failure names its setting. Also
/// rejects decode-only settings for connectors whose decode instance cannot prefill alone.
/// </summary>
internal sealed class ProxyOptionsValidator(IOptions<DeploymentOptions> pdOptions, IOptions<ReadinessOptions> readiness) : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var failures = new List<string>();
        const string S = ProxyOptions.Section;

        Positive(options.MaxRequestBodyBytes, $"{S}:MaxRequestBodyBytes");
        Positive(options.MaxRequestHeadersTotalBytes, $"{S}:MaxRequestHeadersTotalBytes");
        Positive(options.MaxRequestHeaderCount, $"{S}:MaxRequestHeaderCount");
        if (options.MaxRequestHeadersTotalBytes > int.MaxValue / 2 || options.MaxRequestHeaderCount > int.MaxValue / 2)
        {
            failures.Add($"{S}:MaxRequestHeadersTotalBytes and {S}:MaxRequestHeaderCount must be below {int.MaxValue / 2}.");
        }
        NonNegative(options.ShutdownTimeoutSeconds, $"{S}:ShutdownTimeoutSeconds");
        NonNegative(options.ShutdownDrainDelaySeconds ?? 0, $"{S}:ShutdownDrainDelaySeconds");
        if (options.ShutdownDrainDelaySeconds > options.ShutdownTimeoutSeconds)
        {
            failures.Add($"{S}:ShutdownDrainDelaySeconds ({options.ShutdownDrainDelaySeconds}) must not exceed {S}:ShutdownTimeoutSeconds ({options.ShutdownTimeoutSeconds}).");
        }

        var timeouts = options.Timeouts;
        Positive(timeouts.ConnectSeconds, TimeoutOptions.ConnectKey);
        Positive(timeouts.PrefillSeconds, TimeoutOptions.PrefillKey);
        NonNegative(timeouts.PrefillFirstByteSeconds, TimeoutOptions.PrefillFirstByteKey);
        if (timeouts.PrefillFirstByteSeconds > timeouts.PrefillSeconds)
        {
            failures.Add($"{TimeoutOptions.PrefillFirstByteKey} ({timeouts.PrefillFirstByteSeconds}) must not exceed {TimeoutOptions.PrefillKey} ({timeouts.PrefillSeconds}).");
        }

        Positive(timeouts.DecodeIdleSeconds, TimeoutOptions.DecodeIdleKey);
        Positive(timeouts.DecodeNonStreamingSeconds, TimeoutOptions.DecodeNonStreamingKey);

        NonNegative(options.Disaggregation.SkipPrefillBelowTokens, $"{S}:Disaggregation:SkipPrefillBelowTokens");
        NonNegative(options.Disaggregation.SkipPrefillBelowUncachedTokens, $"{S}:Disaggregation:SkipPrefillBelowUncachedTokens");
        NonNegative(options.Disaggregation.SkipPrefillMaxDecodeBacklogTokens, $"{S}:Disaggregation:SkipPrefillMaxDecodeBacklogTokens");
        Positive(options.Disaggregation.MaxPrefillResponseBytes, $"{S}:Disaggregation:MaxPrefillResponseBytes");

        Positive(options.Admission.MaxConcurrentRequests, $"{S}:Admission:MaxConcurrentRequests");
        NonNegative(options.Admission.MaxQueueLength, $"{S}:Admission:MaxQueueLength");
        Positive(options.Admission.QueueTimeoutSeconds, $"{S}:Admission:QueueTimeoutSeconds");
        NonNegative(options.Admission.RequestsPerSecond, $"{S}:Admission:RequestsPerSecond");
        NonNegative(options.Admission.Burst, $"{S}:Admission:Burst");
        NonNegative(options.Admission.RetryAfterSeconds, $"{S}:Admission:RetryAfterSeconds");
        if (!RateLimitModes.IsKnown(options.Admission.RateLimitMode))
        {
            failures.Add($"{AdmissionOptions.RateLimitModeKey} must be '{RateLimitModes.Reject}' or '{RateLimitModes.Wait}' (was '{options.Admission.RateLimitMode}').");
        }

        Positive(options.Admission.RateLimitMaxWaitSeconds, AdmissionOptions.RateLimitMaxWaitSecondsKey);
        NonNegative(options.Migration.MaxAttempts, MigrationOptions.MaxAttemptsKey);
        NonNegative(options.Migration.MaxNonStreamingTokens, MigrationOptions.MaxNonStreamingTokensKey);
        NonNegative(options.Migration.DecodeAloneBelowTokens ?? 0, MigrationOptions.DecodeAloneBelowTokensKey);

        var body = options.RequestBody;
        Positive(body.TimeoutSeconds, $"{RequestBodyOptions.Section}:TimeoutSeconds");
        NonNegative(body.MinBytesPerSecond, $"{RequestBodyOptions.Section}:MinBytesPerSecond");
        if (!(body.MinRateGraceSeconds > 1))
        {
            failures.Add($"{RequestBodyOptions.Section}:MinRateGraceSeconds must be greater than 1 (Kestrel's heartbeat) (was {body.MinRateGraceSeconds}).");
        }

        Positive(body.MaxConcurrentReads, $"{RequestBodyOptions.Section}:MaxConcurrentReads");

        // PyNccl's and P2pNccl's decode instance waits for KV that only a prefill can send:
        // sending it a request alone would hang, not degrade.
        var pd = pdOptions.Value;
        if (ConnectorCatalog.TryResolve(pd.Connector, pd.ChildConnectors, out var connector))
        {
            if (readiness.Value.DecodeOnlyFallback && !connector.DecodeCanPrefillAlone)
            {
                failures.Add($"{ReadinessOptions.DecodeOnlyFallbackKey} cannot be true with {pd.Connector}: its decode instance waits for KV from a prefill instance.");
            }

            if (options.Disaggregation.SkipPrefillBelowTokens > 0 && !connector.DecodeCanSkipPrefill)
            {
                failures.Add($"{S}:Disaggregation:SkipPrefillBelowTokens must be 0 with {pd.Connector}: its decode instance waits for KV from a prefill instance.");
            }

            // Only a value set here is refused: unset, it is off for these connectors.
            if (options.Migration.DecodeAloneBelowTokens > 0 && !connector.DecodeCanSkipPrefill)
            {
                failures.Add($"{MigrationOptions.DecodeAloneBelowTokensKey} must be 0 with {pd.Connector}: its decode instance waits for KV from a prefill instance.");
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
