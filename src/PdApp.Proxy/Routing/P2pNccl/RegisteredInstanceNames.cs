using System.Globalization;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing.P2pNccl;

/// <summary>
/// Names for registered instances without their address (<c>prefill-r1</c>, <c>decode-r2</c>): instance
/// names reach clients in error messages, addresses must not. Each announced <c>http_address</c> gets the
/// next number the first time it is heard and keeps it for the registry's life, so an instance that
/// expires and comes back, or restarts in the other role, keeps its number. The address stays in the
/// logs and in <c>GET /admin/instances</c>. Used from the registry's socket thread only.
/// </summary>
internal sealed class RegisteredInstanceNames
{
    // Bounded: registrations are allowlisted, but a misconfigured sender must not grow this forever.
    private const int MaxRemembered = 65536;

    private readonly Dictionary<string, int> _numbers = new(StringComparer.OrdinalIgnoreCase);
    private int _next;

    /// <summary>The name of <paramref name="role"/> at <paramref name="httpAddress"/>.</summary>
    /// <param name="role">The announced role.</param>
    /// <param name="httpAddress">The announced <c>ip:port</c>.</param>
    /// <returns><c>{role}-r{n}</c>.</returns>
    public string NameFor(PdRole role, string httpAddress)
    {
        if (!_numbers.TryGetValue(httpAddress, out var number))
        {
            if (_numbers.Count >= MaxRemembered)
            {
                _numbers.Clear();
            }

            number = ++_next;
            _numbers[httpAddress] = number;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{role.ToString().ToLowerInvariant()}-r{number}");
    }
}
