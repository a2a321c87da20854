using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol.KvEvents;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// Keeps one <see cref="KvEventSubscriber"/> per registered instance that publishes KV events:
/// subscribers start when instances appear (configuration, DNS, P2pNccl registry, admin API) and
/// stop when they go, dropping their entries from the <see cref="KvBlockIndex"/>. The set is
/// reconciled on every registry change and every few seconds.
/// </summary>
internal sealed partial class KvCacheIndexer(
    InstanceRegistry registry,
    KvBlockIndex index,
    KvCacheMeter meter,
    IOptions<KvCacheOptions> options,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger = loggers.CreateLogger<KvCacheIndexer>();
    private readonly Dictionary<string, KvEventSubscriber> _subscribers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0);

    /// <summary>Instances followed now (tests, diagnostics).</summary>
    public IReadOnlyCollection<string> Followed
    {
        get
        {
            lock (_subscribers)
            {
                return [.. _subscribers.Keys];
            }
        }
    }

    /// <summary>The PUB endpoint an instance's events are read from, or null when it publishes none.</summary>
    public string? EndpointOf(UpstreamInstance instance) => Endpoints(instance).Endpoint;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        void OnChanged() => _changed.Release();
        registry.Changed += OnChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Reconcile();
                try
                {
                    await _changed.WaitAsync(ReconcileInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            registry.Changed -= OnChanged;
            lock (_subscribers)
            {
                foreach (var subscriber in _subscribers.Values)
                {
                    subscriber.Dispose();
                }

                _subscribers.Clear();
            }
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private void Reconcile()
    {
        var desired = new Dictionary<string, (string Endpoint, string? Replay)>(StringComparer.Ordinal);
        foreach (var instance in registry.Instances)
        {
            if (Endpoints(instance) is { Endpoint: { } endpoint } found)
            {
                desired[instance.Name] = (endpoint, found.Replay);
            }
        }

        lock (_subscribers)
        {
            foreach (var (name, subscriber) in _subscribers.ToArray())
            {
                if (!desired.TryGetValue(name, out var wanted) || wanted.Endpoint != subscriber.Endpoint || wanted.Replay != subscriber.ReplayEndpoint)
                {
                    subscriber.Dispose();
                    _subscribers.Remove(name);
                    index.Drop(name);
                    LogUnfollowed(name);
                }
            }

            foreach (var (name, (endpoint, replay)) in desired)
            {
                if (!_subscribers.ContainsKey(name))
                {
                    _subscribers[name] = new KvEventSubscriber(name, endpoint, replay, options.Value.Topic, index, meter, time, _logger);
                }
            }
        }
    }

    private (string? Endpoint, string? Replay) Endpoints(UpstreamInstance instance) =>
        options.Value.EndpointsFor(instance.Name, instance.Role, instance.BaseAddress.Host);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped following KV events of {Instance}; its index entries were dropped")]
    private partial void LogUnfollowed(string instance);
}
