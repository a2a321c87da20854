using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>
/// An immutable view of the registry. Writers build a new one and publish it with one reference
/// write, so readers on the request path never lock and never see a half-applied change.
/// </summary>
internal sealed class RegistrySnapshot
{
    public static readonly RegistrySnapshot Empty = new([]);

    private readonly Dictionary<string, UpstreamInstance> _byName;

    public RegistrySnapshot(UpstreamInstance[] instances)
    {
        All = instances;
        _byName = instances.ToDictionary(i => i.Name, StringComparer.Ordinal);
        Prefill = [.. instances.Where(i => i.Serves(PdRole.Prefill))];
        Decode = [.. instances.Where(i => i.Serves(PdRole.Decode))];
        BothOnly = [.. instances.Where(i => i.Role == PdRole.Both)];
    }

    public UpstreamInstance[] All { get; }

    /// <summary>Instances serving prefill (Prefill and Both). The array's identity changes only when the set does.</summary>
    public UpstreamInstance[] Prefill { get; }

    /// <summary>Instances serving decode (Decode and Both).</summary>
    public UpstreamInstance[] Decode { get; }

    /// <summary>Instances whose role is Both.</summary>
    public UpstreamInstance[] BothOnly { get; }

    public UpstreamInstance[] ForRole(PdRole role) => role switch
    {
        PdRole.Prefill => Prefill,
        PdRole.Decode => Decode,
        _ => BothOnly,
    };

    public UpstreamInstance? Find(string name) => _byName.GetValueOrDefault(name);
}
