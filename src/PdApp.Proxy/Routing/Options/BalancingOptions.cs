using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Routing.Options;

/// <summary>Balancing policy per role and the policies' tuning (<c>Pd:Proxy:Balancing</c>).</summary>
public sealed class BalancingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Proxy:Balancing";

    /// <summary>
    /// <c>Pd:Proxy:Balancing:Prefill</c>, default <see cref="BalancingPolicyKind.PrefixAffinity"/>.
    /// Prefill cost is dominated by prompt computation, which vLLM's automatic prefix caching skips
    /// for a prefix it has already seen; sending repeated prefixes (system prompts, multi-turn
    /// chats) to the same prefill instance turns them into cache hits. The affinity is bounded by
    /// <see cref="PrefixAffinityLoadFactor"/> so a hot prefix cannot overload one instance, and a
    /// request without an affinity key uses least outstanding.
    /// </summary>
    public BalancingPolicyKind Prefill { get; set; } = BalancingPolicyKind.PrefixAffinity;

    /// <summary>
    /// <c>Pd:Proxy:Balancing:Decode</c>, default <see cref="BalancingPolicyKind.LeastOutstanding"/>:
    /// a decode instance's cost is the number of sequences it generates concurrently, which the
    /// proxy's own outstanding count tracks without any scraping delay.
    /// </summary>
    public BalancingPolicyKind Decode { get; set; } = BalancingPolicyKind.LeastOutstanding;

    /// <summary>
    /// <c>Pd:Proxy:Balancing:PrefixLength</c>: characters of the affinity key hashed, default 512
    /// (about 128 tokens): long enough to tell system prompts apart, short enough that later turns
    /// of a conversation keep the first turn's instance.
    /// </summary>
    public int PrefixLength { get; set; } = 512;

    /// <summary>
    /// The characters of a request's rendered prompt that balancing reads: <see cref="PrefixLength"/>
    /// when a role balances by <see cref="BalancingPolicyKind.PrefixAffinity"/> (the request's affinity
    /// key is their hash), otherwise 0 (no policy reads the prompt, so nothing is hashed).
    /// </summary>
    public int AffinityKeyLength =>
        Prefill == BalancingPolicyKind.PrefixAffinity || Decode == BalancingPolicyKind.PrefixAffinity ? PrefixLength : 0;

    /// <summary><c>Pd:Proxy:Balancing:VirtualNodes</c>: ring points per instance, default 160 (spreads keys within a few percent).</summary>
    public int VirtualNodes { get; set; } = 160;

    /// <summary>
    /// <c>Pd:Proxy:Balancing:PrefixAffinityLoadFactor</c>: consistent hashing with bounded loads
    /// (Mirrokni et al., 2016): an instance already holding more than this factor times the mean
    /// outstanding load (rounded up) is passed over for the next one on the ring. Default 1.5.
    /// </summary>
    public double PrefixAffinityLoadFactor { get; set; } = 1.5;

    /// <summary>
    /// <c>Pd:Proxy:Balancing:LoadStaleSeconds</c>: load gauges older than this are ignored by
    /// <see cref="BalancingPolicyKind.LoadAware"/>, default 15.
    /// </summary>
    public double LoadStaleSeconds { get; set; } = 15;
}

/// <summary>Validates <see cref="BalancingOptions"/> at start-up.</summary>
internal sealed class BalancingOptionsValidator : IValidateOptions<BalancingOptions>
{
    public ValidateOptionsResult Validate(string? name, BalancingOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Prefill))
        {
            failures.Add($"{BalancingOptions.SectionName}:Prefill must be one of {string.Join(", ", Enum.GetNames<BalancingPolicyKind>())}.");
        }

        if (!Enum.IsDefined(options.Decode))
        {
            failures.Add($"{BalancingOptions.SectionName}:Decode must be one of {string.Join(", ", Enum.GetNames<BalancingPolicyKind>())}.");
        }

        if (options.PrefixLength < 1)
        {
            failures.Add($"{BalancingOptions.SectionName}:PrefixLength must be at least 1 (was {options.PrefixLength}).");
        }

        if (options.VirtualNodes is < 1 or > 10_000)
        {
            failures.Add($"{BalancingOptions.SectionName}:VirtualNodes must be between 1 and 10000 (was {options.VirtualNodes}).");
        }

        if (!(options.PrefixAffinityLoadFactor >= 1))
        {
            failures.Add($"{BalancingOptions.SectionName}:PrefixAffinityLoadFactor must be at least 1 (was {options.PrefixAffinityLoadFactor}).");
        }

        if (!(options.LoadStaleSeconds > 0))
        {
            failures.Add($"{BalancingOptions.SectionName}:LoadStaleSeconds must be positive (was {options.LoadStaleSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
