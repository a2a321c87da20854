using Microsoft.Extensions.Logging;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>
/// The proxy's <see cref="IInstanceRegistry"/>: copy-on-write snapshots. Readers (every request)
/// read one volatile reference; writers (discovery, the admin API: rare) serialise on a lock and
/// publish a new snapshot.
/// </summary>
public sealed partial class InstanceRegistry : IInstanceRegistry
{
    private readonly Lock _writeLock = new();
    private readonly ILogger<InstanceRegistry> _logger;
    private volatile RegistrySnapshot _snapshot = RegistrySnapshot.Empty;

    /// <summary>Creates an empty registry.</summary>
    /// <param name="logger">Logger for instance additions and removals.</param>
    public InstanceRegistry(ILogger<InstanceRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
    }

    /// <inheritdoc />
    public IReadOnlyList<UpstreamInstance> Instances => _snapshot.All;

    internal RegistrySnapshot Snapshot => _snapshot;

    /// <summary>
    /// Raised after a change is published (outside the write lock, on the writer's thread);
    /// handlers must be quick and must not throw. The active health checker uses it to probe
    /// new instances at once.
    /// </summary>
    internal event Action? Changed;

    /// <inheritdoc />
    public IReadOnlyList<UpstreamInstance> GetInstances(PdRole role) => _snapshot.ForRole(role);

    /// <inheritdoc />
    public UpstreamInstance? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _snapshot.Find(name);
    }

    /// <inheritdoc />
    public void AddOrUpdate(UpstreamInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        lock (_writeLock)
        {
            var current = _snapshot;
            var existing = current.Find(instance.Name);
            if (ReferenceEquals(existing, instance))
            {
                return;
            }

            var next = current.All.Where(i => i.Name != instance.Name).Append(instance).ToArray();
            _snapshot = new RegistrySnapshot(next);
            LogChanged(existing, instance);
        }

        Changed?.Invoke();
    }

    /// <summary>
    /// Adds <paramref name="instance"/> unless an instance with its name exists.
    /// </summary>
    /// <param name="instance">The instance.</param>
    /// <returns>False when the name is taken.</returns>
    public bool TryAdd(UpstreamInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        lock (_writeLock)
        {
            var current = _snapshot;
            if (current.Find(instance.Name) is not null)
            {
                return false;
            }

            _snapshot = new RegistrySnapshot([.. current.All, instance]);
            LogChanged(null, instance);
        }

        Changed?.Invoke();
        return true;
    }

    /// <inheritdoc />
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_writeLock)
        {
            var current = _snapshot;
            if (current.Find(name) is not { } removed)
            {
                return false;
            }

            _snapshot = new RegistrySnapshot([.. current.All.Where(i => !ReferenceEquals(i, removed))]);
            LogRemoved(removed.Name, removed.Role, removed.BaseAddress, removed.Source);
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>
    /// Makes the instances that <paramref name="owned"/> selects equal <paramref name="desired"/>,
    /// in one snapshot: a discovery source's whole view replaces its previous one. Instances whose
    /// address is unchanged keep their identity (outstanding count, health, drain state); changed
    /// ones are replaced and inherit the drain state. A desired name held by an instance the
    /// source does not own is left alone.
    /// </summary>
    /// <param name="owned">Selects the instances the calling source owns.</param>
    /// <param name="desired">The source's current view.</param>
    internal void Synchronize(Func<UpstreamInstance, bool> owned, IReadOnlyCollection<UpstreamInstance> desired)
    {
        lock (_writeLock)
        {
            var current = _snapshot;
            var desiredByName = desired.ToDictionary(i => i.Name, StringComparer.Ordinal);
            var next = new List<UpstreamInstance>(current.All.Length + desired.Count);
            var changed = false;

            foreach (var instance in current.All)
            {
                if (!owned(instance))
                {
                    if (desiredByName.Remove(instance.Name))
                    {
                        LogNameConflict(instance.Name, instance.Source);
                    }

                    next.Add(instance);
                    continue;
                }

                if (!desiredByName.Remove(instance.Name, out var wanted))
                {
                    LogRemoved(instance.Name, instance.Role, instance.BaseAddress, instance.Source);
                    changed = true;
                    continue;
                }

                if (SameEndpoint(instance, wanted))
                {
                    next.Add(instance);
                    continue;
                }

                wanted.IsDraining = instance.IsDraining;
                next.Add(wanted);
                LogChanged(instance, wanted);
                changed = true;
            }

            foreach (var added in desired.Where(i => desiredByName.ContainsKey(i.Name)))
            {
                next.Add(added);
                LogChanged(null, added);
                changed = true;
            }

            if (!changed)
            {
                return;
            }

            _snapshot = new RegistrySnapshot([.. next]);
        }

        Changed?.Invoke();
    }

    private static bool SameEndpoint(UpstreamInstance a, UpstreamInstance b) =>
        a.Role == b.Role
        && a.Source == b.Source
        && a.BaseAddress == b.BaseAddress
        && string.Equals(a.KvAddress, b.KvAddress, StringComparison.Ordinal);

    private void LogChanged(UpstreamInstance? previous, UpstreamInstance instance)
    {
        if (previous is null)
        {
            LogAdded(instance.Name, instance.Role, instance.BaseAddress, instance.KvAddress, instance.Source);
        }
        else
        {
            LogUpdated(instance.Name, instance.Role, previous.BaseAddress, instance.BaseAddress, instance.KvAddress, instance.Source);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {Name} ({Role}) added at {BaseAddress}, KV address {KvAddress}, from {Source}")]
    private partial void LogAdded(string name, PdRole role, Uri baseAddress, string? kvAddress, InstanceSource source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {Name} ({Role}) moved from {PreviousAddress} to {BaseAddress}, KV address {KvAddress}, from {Source}")]
    private partial void LogUpdated(string name, PdRole role, Uri previousAddress, Uri baseAddress, string? kvAddress, InstanceSource source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {Name} ({Role}) at {BaseAddress} removed ({Source})")]
    private partial void LogRemoved(string name, PdRole role, Uri baseAddress, InstanceSource source);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Discovered instance name {Name} is already taken by an instance from {Source}; the discovered one is ignored")]
    private partial void LogNameConflict(string name, InstanceSource source);
}
