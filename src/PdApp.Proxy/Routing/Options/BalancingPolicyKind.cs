namespace PdApp.Proxy.Routing.Options;

/// <summary>How instances of one role are chosen (<c>Pd:Proxy:Balancing:Prefill</c> / <c>:Decode</c>).</summary>
public enum BalancingPolicyKind
{
    /// <summary>Each available instance in turn.</summary>
    RoundRobin,

    /// <summary>The available instance with the fewest requests in flight through this proxy.</summary>
    LeastOutstanding,

    /// <summary>Two random available instances, the less loaded of them (Mitzenmacher's power of two choices).</summary>
    PowerOfTwoChoices,

    /// <summary>
    /// A consistent-hash ring over the prompt's first characters, so a repeated prefix reaches the
    /// instance whose prefix cache holds it; bounded load keeps hot prefixes from swamping one instance.
    /// </summary>
    PrefixAffinity,

    /// <summary>The engines' own gauges (waiting, running, KV usage) when scraped, else least outstanding.</summary>
    LoadAware,

    /// <summary>
    /// The engines' real prefix caches, from their KV events (<c>Pd:Proxy:KvCache</c>): the longest
    /// cached prefix of the prompt per instance, weighed against load; least outstanding, visibly,
    /// when events are absent or stale.
    /// </summary>
    KvAware,
}
