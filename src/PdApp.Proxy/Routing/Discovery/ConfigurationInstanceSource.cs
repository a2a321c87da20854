using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Discovery;

/// <summary>
/// Feeds the <c>Pd:Instances</c> entries into the registry. Each address goes through
/// <see cref="ServiceEndpointResolver"/>, so <c>http://prefill-0</c> resolves from Aspire's
/// <c>services:prefill-0:http:0</c> (or DNS) and a literal <c>http://127.0.0.1:8100</c> passes
/// through. Resolution runs before the app starts serving and again every
/// <c>Pd:Discovery:RefreshSeconds</c> (and on configuration reload), so moved endpoints are
/// picked up. An entry resolving to several endpoints yields <c>name</c>, <c>name#1</c>, ...
/// An instance removed through the admin API stays removed until its entry changes.
/// </summary>
internal sealed partial class ConfigurationInstanceSource : BackgroundService
{
    private readonly InstanceRegistry _registry;
    private readonly ServiceEndpointResolver _resolver;
    private readonly IOptionsMonitor<InstancesOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ConfigurationInstanceSource> _logger;
    private readonly HashSet<string> _removedByOperator = new(StringComparer.Ordinal);
    private readonly Channel<bool> _refreshRequests = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _refreshLock = new();
    private Dictionary<string, UpstreamInstance> _published = new(StringComparer.Ordinal);
    private List<IDisposable> _endpointWatches = [];

    public ConfigurationInstanceSource(
        InstanceRegistry registry,
        ServiceEndpointResolver resolver,
        IOptionsMonitor<InstancesOptions> options,
        TimeProvider time,
        ILogger<ConfigurationInstanceSource> logger)
    {
        _registry = registry;
        _resolver = resolver;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first resolution completes before Kestrel starts, so the proxy never reports ready
        // (or routes) with an empty registry just because resolution had not run yet.
        await RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = _options.OnChange(_ => RequestRefresh());
        while (!stoppingToken.IsCancellationRequested)
        {
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                await Task.WhenAny(
                    Task.Delay(TimeSpan.FromSeconds(_options.CurrentValue.RefreshSeconds), _time, wait.Token),
                    _refreshRequests.Reader.WaitToReadAsync(wait.Token).AsTask());
                await wait.CancelAsync();
            }

            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            _refreshRequests.Reader.TryRead(out _);
            await RefreshAsync(stoppingToken);
        }
    }

    public override void Dispose()
    {
        lock (_refreshLock)
        {
            foreach (var watch in _endpointWatches)
            {
                watch.Dispose();
            }

            _endpointWatches = [];
        }

        base.Dispose();
    }

    /// <summary>Asks for a refresh now: configuration reloaded, or a resolved endpoint set changed.</summary>
    private void RequestRefresh() => _refreshRequests.Writer.TryWrite(true);

    /// <summary>Resolves every entry and publishes the result as this source's view.</summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var entries = _options.CurrentValue.Instances;
        var desired = new List<UpstreamInstance>();
        var watches = new List<IDisposable>();
        foreach (var entry in entries)
        {
            if (!RoleParser.TryParse(entry.Role, out var role)
                || string.IsNullOrWhiteSpace(entry.Name)
                || !Uri.TryCreate(entry.Address, UriKind.Absolute, out var address))
            {
                continue; // Rejected at start-up by InstancesOptionsValidator; skipped on a bad reload.
            }

            var uris = await ResolveAsync(entry.Name, address, watches, cancellationToken);
            if (uris is null)
            {
                // Resolution failed: keep what was published for this entry rather than dropping it.
                desired.AddRange(_published.Values.Where(i => i.Name == entry.Name || i.Name.StartsWith(entry.Name + "#", StringComparison.Ordinal)));
                continue;
            }

            for (var i = 0; i < uris.Count; i++)
            {
                var name = i == 0 ? entry.Name : $"{entry.Name}#{i}";
                desired.Add(new UpstreamInstance(name, role, uris[i], InstanceSource.Configuration, string.IsNullOrWhiteSpace(entry.KvAddress) ? null : entry.KvAddress)
                {
                    KvAllocPort = entry.KvAllocPort,
                    KvRanks = entry.KvRanks,
                });
            }
        }

        lock (_refreshLock)
        {
            foreach (var watch in _endpointWatches)
            {
                watch.Dispose();
            }

            _endpointWatches = watches;
            Publish(desired);
        }
    }

    private void Publish(List<UpstreamInstance> desired)
    {
        // Entries an operator deleted through the admin API are not resurrected by a refresh
        // unless their resolved endpoint changes.
        foreach (var name in _published.Keys)
        {
            if (_registry.Find(name) is null)
            {
                _removedByOperator.Add(name);
            }
        }

        var next = new Dictionary<string, UpstreamInstance>(StringComparer.Ordinal);
        var toPublish = new List<UpstreamInstance>();
        foreach (var instance in desired)
        {
            var unchanged = _published.TryGetValue(instance.Name, out var previous)
                && previous.BaseAddress == instance.BaseAddress
                && previous.Role == instance.Role
                && previous.KvAddress == instance.KvAddress;
            if (unchanged && _removedByOperator.Contains(instance.Name))
            {
                next[instance.Name] = previous!;
                continue;
            }

            _removedByOperator.Remove(instance.Name);
            next[instance.Name] = instance;
            toPublish.Add(instance);
        }

        _published = next;
        _registry.Synchronize(static i => i.Source == InstanceSource.Configuration, toPublish);
    }

    private async Task<IReadOnlyList<Uri>?> ResolveAsync(string name, Uri address, List<IDisposable> watches, CancellationToken cancellationToken)
    {
        try
        {
            var source = await _resolver.GetEndpointsAsync(address.GetLeftPart(UriPartial.Authority), cancellationToken);

            // The resolver re-resolves on its own (configuration reload, DNS TTL); its change token
            // tells us when, so a moved endpoint is picked up without waiting for the next interval.
            if (source.ChangeToken.ActiveChangeCallbacks)
            {
                watches.Add(source.ChangeToken.RegisterChangeCallback(static state => ((ConfigurationInstanceSource)state!).RequestRefresh(), this));
            }

            var uris = source.Endpoints
                .Select(e => EndpointUris.ToBaseUri(e, address))
                .OfType<Uri>()
                .Distinct()
                .ToList();
            if (uris.Count == 0)
            {
                LogNoEndpoints(name, address);
                return null;
            }

            return uris;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogResolveFailed(ex, name, address);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {Name}: service discovery found no endpoint for {Address}")]
    private partial void LogNoEndpoints(string name, Uri address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {Name}: resolving {Address} failed; keeping the previous endpoints")]
    private partial void LogResolveFailed(Exception exception, string name, Uri address);
}
