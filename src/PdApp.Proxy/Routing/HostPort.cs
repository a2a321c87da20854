using System.Globalization;

namespace PdApp.Proxy.Routing;

/// <summary>Parses <c>host:port</c> strings (<c>[::1]:8100</c> for IPv6), as vLLM advertises addresses.</summary>
internal static class HostPort
{
    public static bool TryParse(string? value, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            return false;
        }

        var hostPart = value[..colon];
        if (hostPart.Contains(':', StringComparison.Ordinal) && !(hostPart.StartsWith('[') && hostPart.EndsWith(']')))
        {
            return false;
        }

        if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        if (Uri.CheckHostName(hostPart.Trim('[', ']')) == UriHostNameType.Unknown)
        {
            return false;
        }

        host = hostPart;
        return true;
    }

    /// <summary>Builds <c>http://host:port/</c> from a <c>host:port</c> string.</summary>
    public static bool TryCreateHttpUri(string? value, out Uri uri)
    {
        uri = null!;
        if (!TryParse(value, out var host, out var port))
        {
            return false;
        }

        return Uri.TryCreate($"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/", UriKind.Absolute, out uri!);
    }
}
