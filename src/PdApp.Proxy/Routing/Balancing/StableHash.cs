namespace PdApp.Proxy.Routing.Balancing;

/// <summary>
/// A 64-bit hash that is the same in every process and run (unlike <see cref="string.GetHashCode()"/>),
/// so several proxy replicas place prefixes and ring points alike: FNV-1a over the UTF-16 code
/// units, then the SplitMix64 finaliser to spread nearby inputs over the whole ring. Text can be
/// hashed whole (<see cref="Hash"/>) or as it is produced (<see cref="Hasher"/>), with the same result.
/// </summary>
internal static class StableHash
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public static ulong Hash(ReadOnlySpan<char> text)
    {
        var hasher = new Hasher();
        hasher.Append(text);
        return hasher.Finish();
    }

    /// <summary>
    /// The prefix-affinity key of a rendered prompt: the hash of its first <paramref name="prefixLength"/>
    /// characters, or null when it has none (requests without a key are balanced by the fallback policy).
    /// </summary>
    /// <param name="text">The rendered prompt.</param>
    /// <param name="prefixLength">The characters hashed (<c>Pd:Proxy:Balancing:PrefixLength</c>).</param>
    /// <returns>The key, or null.</returns>
    public static ulong? PrefixKey(ReadOnlySpan<char> text, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        var prefix = text[..Math.Min(prefixLength, text.Length)];
        return prefix.IsEmpty ? null : Hash(prefix);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// The hash of text appended piece by piece (no string is built): equal to <see cref="Hash"/> of
    /// the concatenation.
    /// </summary>
    public struct Hasher
    {
        private ulong _state;
        private bool _started;

        /// <summary>Whether any character was appended.</summary>
        public readonly bool IsEmpty => !_started;

        public void Append(ReadOnlySpan<char> text)
        {
            var hash = _started ? _state : FnvOffset;
            foreach (var c in text)
            {
                hash ^= (byte)c;
                hash *= FnvPrime;
                hash ^= (byte)(c >> 8);
                hash *= FnvPrime;
            }

            _state = hash;
            _started = true;
        }

        public readonly ulong Finish() => Mix(_started ? _state : FnvOffset);
    }
}
