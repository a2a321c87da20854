namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// A 64-bit hash that is the same in every process and run (unlike <see cref="string.GetHashCode()"/>),
/// so several proxy replicas place prefixes and ring points alike: FNV-1a over the UTF-16 code
/// units, then the SplitMix64 finaliser to spread nearby inputs over the whole ring.
/// </summary>
internal static class StableHash
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static ulong Hash(ReadOnlySpan<char> text)
    {
        var hash = FnvOffset;
        foreach (var c in text)
        {
            hash ^= (byte)c;
            hash *= FnvPrime;
            hash ^= (byte)(c >> 8);
            hash *= FnvPrime;
        }

        return Mix(hash);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
