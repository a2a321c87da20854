using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.KvEvents;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// The KV event indexer and the <c>KvAware</c> policy (<c>Pd:Proxy:KvCache</c>). The indexer
/// subscribes to every instance's vLLM KV events (<c>--kv-events-config</c>) and keeps which
/// instance holds which prompt blocks; the policy routes on it.
/// </summary>
public sealed class KvCacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = PdProxySettings.KvCache;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:Enabled</c>: subscribe to the instances' KV events (default false; the
    /// <c>KvAware</c> policy enables it on its own).
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// <c>Pd:Proxy:KvCache:EventsPort</c>: for an instance without an entry in <see cref="Endpoints"/>,
    /// its events are read from <c>tcp://&lt;instance host&gt;:EventsPort</c> (vLLM's default 5557;
    /// 0 = only listed instances).
    /// </summary>
    public int EventsPort { get; set; } = 5557;

    /// <summary><c>Pd:Proxy:KvCache:ReplayPort</c>: the same for the replay endpoint (0, default: no replay unless listed).</summary>
    public int ReplayPort { get; set; }

    /// <summary>
    /// <c>Pd:Proxy:KvCache:Prefill:EventsPort|ReplayPort</c>: the prefill pods' ports when they differ from
    /// <see cref="EventsPort"/> / <see cref="ReplayPort"/> (a cluster's role templates, as the Kubernetes writer sets them).
    /// </summary>
    public KvEventsRolePorts Prefill { get; set; } = new();

    /// <summary><c>Pd:Proxy:KvCache:Decode:EventsPort|ReplayPort</c>: the same for decode.</summary>
    public KvEventsRolePorts Decode { get; set; } = new();

    /// <summary><c>Pd:Proxy:KvCache:Both:EventsPort|ReplayPort</c>: the same for instances serving both roles.</summary>
    public KvEventsRolePorts Both { get; set; } = new();

    /// <summary>
    /// <c>Pd:Proxy:KvCache:Endpoints:{instance name}</c>: an instance's event endpoints, as the app
    /// host writes them (each instance has its own port when they share a host).
    /// </summary>
    public Dictionary<string, KvEventsEndpointOptions> Endpoints { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>Pd:Proxy:KvCache:Topic</c>: the subscription prefix (default empty: every topic).</summary>
    public string Topic { get; set; } = string.Empty;

    /// <summary><c>Pd:Proxy:KvCache:BlockSize</c>: the engines' <c>--block-size</c> (default 16); events of another size are ignored.</summary>
    public int BlockSize { get; set; } = 16;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:MaxBlocksPerInstance</c>: indexed blocks per instance; the oldest are
    /// forgotten beyond it, so memory stays bounded (default 200000, about 16 MB per instance).
    /// </summary>
    public int MaxBlocksPerInstance { get; set; } = 200_000;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:StaleSeconds</c>: an instance that has been sent requests for this long
    /// without publishing any event is treated as having no events (default 30).
    /// </summary>
    public double StaleSeconds { get; set; } = 30;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:PendingSeconds</c>: after the <c>KvAware</c> policy sends a prompt to an
    /// instance, the prompt's blocks count as held there for this long, until its own KV events
    /// (published only once the prefill is done) confirm them, as Dynamo's KV router predicts the
    /// blocks of requests in flight. Without it a burst of requests sharing a new prefix is spread by
    /// load over every instance, each recomputing the prefix (default 10; 0 = events only).
    /// </summary>
    public double PendingSeconds { get; set; } = 10;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:CacheWeight</c>: weight of the share of the prompt's tokens the instance
    /// holds as a leading run of cached blocks (default 1).
    /// </summary>
    public double CacheWeight { get; set; } = 1.0;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:LoadWeight</c>: weight of the work this proxy has in flight on the instance
    /// (default 0.5), counted from its own routing decisions: for prefill, the uncached prompt tokens of
    /// the requests it sent there that have not finished prefilling (a long uncached prompt weighs what
    /// it costs, a short conversation tail almost nothing); for decode, the KV blocks of the sequences
    /// it runs there; either over the mean of the eligible instances plus this prompt's tokens (blocks).
    /// With idle instances and <see cref="CacheWeight"/> and this weight both 1, a prefill instance's
    /// score is minus its estimated time to first token in units of this prompt's full prefill
    /// (greedy); below 1 a prefix stays where it is cached until the work queued there is worth more
    /// than recomputing it elsewhere (1 / weight times as much), since a move also costs later
    /// requests their cache hits; the mean keeps prefixes in place when every instance is loaded.
    /// </summary>
    public double LoadWeight { get; set; } = 0.5;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:RequestWeight</c>: weight of the number of requests this proxy has in flight on the
    /// instance, over the mean of the eligible instances plus one (default 0.5). Beside
    /// <see cref="LoadWeight"/>, which weighs what those requests cost to compute, it spreads sequences, and so
    /// the conversations they belong to: on work alone, conversations whose queued tails are short can pile up
    /// on one instance (<c>bench/RESULTS.md</c> §7.5-7.6: with it, lower TTFT at 4 req/s on the multi-turn bench;
    /// at 6 req/s no better, in some runs worse, with fewer cache hits); 0 = work only.
    /// </summary>
    public double RequestWeight { get; set; } = 0.5;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:HolderLoadFactor</c>: keeps a prompt on its holder, the one instance caching more of
    /// it than any other (a conversation's history), unless that instance is clearly overloaded: its outstanding
    /// requests above this factor times the mean (counting this one, as consistent hashing with bounded loads),
    /// or its estimated prefill work (work in flight plus this prompt's uncached part) above this factor times
    /// the best other instance's. The score alone moves a conversation as soon as load differences outweigh its
    /// cached share, and every move recomputes its history (<c>bench/RESULTS.md</c> §7.7). Default 1.5;
    /// 0 = off (the score alone decides).
    /// </summary>
    public double HolderLoadFactor { get; set; } = 1.5;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:WaitingWeight</c>: weight of each request queued in the engine's scheduler
    /// (scraped <c>vllm:num_requests_waiting</c>; it also counts other proxies' requests, which
    /// <see cref="LoadWeight"/> does not see) in the same units (default 0.25).
    /// </summary>
    public double WaitingWeight { get; set; } = 0.25;

    /// <summary><c>Pd:Proxy:KvCache:KvUsageWeight</c>: weight of the engine's scraped <c>vllm:kv_cache_usage_perc</c>, 0 to 1 (default 0.1).</summary>
    public double KvUsageWeight { get; set; } = 0.1;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:TokenizationCacheSize</c>: tokenized requests whose block keys are kept, least recently
    /// used out first (default 4096; the chat prefix store has the same bound; 0 = no caching).
    /// </summary>
    public int TokenizationCacheSize { get; set; } = 4096;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:TokenizationCacheBytes</c>: the same caches' bound in bytes of keys held (default 64 MiB each;
    /// a 32k-token prompt at block size 16 is 16 KiB).
    /// </summary>
    public long TokenizationCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// <c>Pd:Proxy:KvCache:ReusePrefixTokenizations</c>: route a chat request that extends a known message prefix
    /// (shared system prompt, conversation history) on that prefix's keys without a <c>/tokenize</c> call, once the
    /// model's template has been verified to keep prefixes (default true).
    /// </summary>
    public bool ReusePrefixTokenizations { get; set; } = true;

    /// <summary><c>Pd:Proxy:KvCache:TokenizeTimeoutSeconds</c>: bound on one <c>/tokenize</c> call (default 2).</summary>
    public double TokenizeTimeoutSeconds { get; set; } = 2;

    /// <summary>
    /// Where an instance's events are read: its <see cref="Endpoints"/> entry, else <c>tcp://host:port</c> on its role's
    /// ports (<see cref="Prefill"/>, <see cref="Decode"/>, <see cref="Both"/>), else on <see cref="EventsPort"/> / <see cref="ReplayPort"/>.
    /// </summary>
    /// <param name="name">The instance's name.</param>
    /// <param name="role">Its role.</param>
    /// <param name="host">Its host, as the proxy reaches it.</param>
    /// <returns>The PUB endpoint (null: none) and the replay endpoint (null: none).</returns>
    public (string? Endpoint, string? Replay) EndpointsFor(string name, PdRole role, string host)
    {
        if (Endpoints.TryGetValue(name, out var listed))
        {
            return (listed.Endpoint, listed.ReplayEndpoint);
        }

        var rolePorts = role switch
        {
            PdRole.Prefill => Prefill,
            PdRole.Decode => Decode,
            _ => Both,
        };
        var events = rolePorts.EventsPort ?? EventsPort;
        var replay = rolePorts.ReplayPort ?? ReplayPort;
        return events == 0
            ? (null, null)
            : (KvEventsConfig.Tcp(host, events), replay == 0 ? null : KvEventsConfig.Tcp(host, replay));
    }
}

/// <summary>One role's KV event ports (unset: the section's <c>EventsPort</c> / <c>ReplayPort</c>).</summary>
public sealed class KvEventsRolePorts
{
    /// <summary><c>EventsPort</c>: the role's PUB port (0: none).</summary>
    public int? EventsPort { get; set; }

    /// <summary><c>ReplayPort</c>: the role's replay port (0: none).</summary>
    public int? ReplayPort { get; set; }
}

/// <summary>One instance's KV event endpoints.</summary>
public sealed class KvEventsEndpointOptions
{
    /// <summary><c>Endpoint</c>: the PUB endpoint to connect to, e.g. <c>tcp://10.0.0.5:5557</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>ReplayEndpoint</c>: the ROUTER replay endpoint, optional.</summary>
    public string? ReplayEndpoint { get; set; }
}

/// <summary>Validates <see cref="KvCacheOptions"/> at start-up.</summary>
internal sealed class KvCacheOptionsValidator : IValidateOptions<KvCacheOptions>
{
    private const string S = KvCacheOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, KvCacheOptions options)
    {
        var failures = new List<string>();
        if (options.EventsPort is < 0 or > 65535)
        {
            failures.Add($"{S}:EventsPort must be between 0 and 65535 (was {options.EventsPort}).");
        }

        if (options.ReplayPort is < 0 or > 65535)
        {
            failures.Add($"{S}:ReplayPort must be between 0 and 65535 (was {options.ReplayPort}).");
        }

        foreach (var (role, ports) in new[] { ("Prefill", options.Prefill), ("Decode", options.Decode), ("Both", options.Both) })
        {
            foreach (var (label, port) in new[] { ("EventsPort", ports.EventsPort), ("ReplayPort", ports.ReplayPort) })
            {
                if (port is < 0 or > 65535)
                {
                    failures.Add($"{S}:{role}:{label} must be between 0 and 65535 (was {port}).");
                }
            }
        }

        if (options.BlockSize < 1)
        {
            failures.Add($"{S}:BlockSize must be at least 1 (was {options.BlockSize}).");
        }

        if (options.MaxBlocksPerInstance < 1)
        {
            failures.Add($"{S}:MaxBlocksPerInstance must be at least 1 (was {options.MaxBlocksPerInstance}).");
        }

        if (!(options.PendingSeconds >= 0))
        {
            failures.Add($"{S}:PendingSeconds must be a non-negative number (was {options.PendingSeconds}).");
        }

        if (!(options.StaleSeconds > 0))
        {
            failures.Add($"{S}:StaleSeconds must be positive (was {options.StaleSeconds}).");
        }

        foreach (var (label, weight) in new[]
        {
            ("CacheWeight", options.CacheWeight), ("LoadWeight", options.LoadWeight), ("RequestWeight", options.RequestWeight),
            ("HolderLoadFactor", options.HolderLoadFactor), ("WaitingWeight", options.WaitingWeight),
            ("KvUsageWeight", options.KvUsageWeight),
        })
        {
            if (!(weight >= 0) || double.IsInfinity(weight))
            {
                failures.Add($"{S}:{label} must be a non-negative number (was {weight}).");
            }
        }

        if (options.TokenizationCacheSize < 0)
        {
            failures.Add($"{S}:TokenizationCacheSize must not be negative (was {options.TokenizationCacheSize}).");
        }

        if (options.TokenizationCacheBytes < 0)
        {
            failures.Add($"{S}:TokenizationCacheBytes must not be negative (was {options.TokenizationCacheBytes}).");
        }

        if (!(options.TokenizeTimeoutSeconds > 0))
        {
            failures.Add($"{S}:TokenizeTimeoutSeconds must be positive (was {options.TokenizeTimeoutSeconds}).");
        }

        foreach (var (instance, endpoint) in options.Endpoints)
        {
            if (endpoint.Endpoint is not { } e || !e.StartsWith("tcp://", StringComparison.Ordinal))
            {
                failures.Add($"{S}:Endpoints:{instance}:Endpoint must be a tcp:// endpoint (was '{endpoint.Endpoint}').");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
