using PdApp.Protocol;

namespace PdApp.Proxy.Routing;

/// <summary>Parses role names from configuration and the admin API.</summary>
internal static class RoleParser
{
    /// <summary>Parses Prefill, Decode or Both, case-insensitively; numbers are rejected.</summary>
    public static bool TryParse(string? value, out PdRole role)
    {
        role = default;
        return !string.IsNullOrWhiteSpace(value)
            && !char.IsAsciiDigit(value.Trim()[0])
            && !value.Contains(',', StringComparison.Ordinal)
            && Enum.TryParse(value.Trim(), ignoreCase: true, out role)
            && Enum.IsDefined(role);
    }
}
