using System.Globalization;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>
/// Names for discovered instances without their address (<c>prefill-r1</c> from the P2pNccl registry,
/// <c>decode-d2</c> from DNS): instance names reach clients in error messages, addresses must not. Each address
/// gets the next number the first time it is seen and keeps it for the source's life, so an instance that
/// expires and comes back, or restarts in the other role, keeps its number. The address stays in the logs and
/// in <c>GET /admin/instances</c>.
/// </summary>
/// <param name="kind">The letter after the role: <c>r</c> (registry), <c>d</c> (DNS).</param>
internal sealed class InstanceNumbering(string kind)
{
    // Bounded: a misconfigured sender or a churning cluster must not grow this forever.
    private const int MaxRemembered = 65536;

    private readonly Dictionary<string, int> _numbers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _lock = new();
    private int _next;

    /// <summary>The name of <paramref name="role"/> at <paramref name="address"/>.</summary>
    /// <param name="role">The role.</param>
    /// <param name="address">The instance's <c>host:port</c>.</param>
    /// <returns><c>{role}-{kind}{n}</c>.</returns>
    public string NameFor(PdRole role, string address)
    {
        int number;
        lock (_lock)
        {
            if (!_numbers.TryGetValue(address, out number))
            {
                if (_numbers.Count >= MaxRemembered)
                {
                    _numbers.Clear();
                }

                number = ++_next;
                _numbers[address] = number;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{role.ToString().ToLowerInvariant()}-{kind}{number}");
    }
}
