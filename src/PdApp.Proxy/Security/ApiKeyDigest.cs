using System.Security.Cryptography;
using System.Text;

namespace PdApp.Proxy.Security;

/// <summary>
/// A key kept as its SHA-256 digest and compared in constant time: both sides are hashed to the
/// same length first, so neither the key's content nor its length leaks through timing.
/// </summary>
internal sealed class ApiKeyDigest
{
    private readonly byte[] _digest;

    private ApiKeyDigest(byte[] digest) => _digest = digest;

    /// <summary>The digest of <paramref name="key"/>, or null when no key is configured.</summary>
    public static ApiKeyDigest? Of(string? key) =>
        string.IsNullOrEmpty(key) ? null : new ApiKeyDigest(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Hashes a presented key once, to compare against every configured key.</summary>
    public static byte[] Hash(ReadOnlySpan<char> presented)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(presented)];
        Encoding.UTF8.GetBytes(presented, bytes);
        return SHA256.HashData(bytes);
    }

    /// <summary>Whether <paramref name="presentedDigest"/> is this key's digest (constant time).</summary>
    public bool Matches(ReadOnlySpan<byte> presentedDigest) => CryptographicOperations.FixedTimeEquals(presentedDigest, _digest);
}
