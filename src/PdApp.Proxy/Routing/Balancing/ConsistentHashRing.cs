using System.Globalization;

namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// A consistent-hash ring with virtual nodes over a fixed instance list. Points are placed by
/// instance name, so removing an instance moves only the keys it owned, to the next instances on
/// the ring; every other key keeps its instance (and its warm prefix cache).
/// </summary>
internal sealed class ConsistentHashRing
{
    private readonly ulong[] _points;
    private readonly int[] _owners;

    public ConsistentHashRing(IReadOnlyList<UpstreamInstance> instances, int virtualNodes)
    {
        Instances = instances;
        var points = new (ulong Point, int Owner)[instances.Count * virtualNodes];
        Span<char> buffer = stackalloc char[16];
        for (var i = 0; i < instances.Count; i++)
        {
            var name = instances[i].Name;
            for (var v = 0; v < virtualNodes; v++)
            {
                v.TryFormat(buffer, out var written, provider: CultureInfo.InvariantCulture);
                points[(i * virtualNodes) + v] = (StableHash.Hash(string.Concat(name, "#", buffer[..written])), i);
            }
        }

        // Ties (vanishingly rare) are broken by name so every replica builds the same ring.
        Array.Sort(points, (x, y) => x.Point != y.Point
            ? x.Point.CompareTo(y.Point)
            : string.CompareOrdinal(instances[x.Owner].Name, instances[y.Owner].Name));
        _points = [.. points.Select(p => p.Point)];
        _owners = [.. points.Select(p => p.Owner)];
    }

    /// <summary>The instance list the ring was built for.</summary>
    public IReadOnlyList<UpstreamInstance> Instances { get; }

    /// <summary>
    /// Walks the ring clockwise from <paramref name="keyHash"/>, yielding each instance once, in
    /// ring order: the key's owner first, then its successors.
    /// </summary>
    public IEnumerable<UpstreamInstance> Walk(ulong keyHash)
    {
        if (_points.Length == 0)
        {
            yield break;
        }

        var start = Array.BinarySearch(_points, keyHash);
        if (start < 0)
        {
            start = ~start;
        }

        var seen = new bool[Instances.Count];
        var remaining = Instances.Count;
        for (var i = 0; i < _points.Length && remaining > 0; i++)
        {
            var owner = _owners[(start + i) % _points.Length];
            if (!seen[owner])
            {
                seen[owner] = true;
                remaining--;
                yield return Instances[owner];
            }
        }
    }
}
