using PdApp.Protocol.P2pNccl;

namespace PdApp.Proxy.Routing.P2pNccl;

/// <summary>
/// Reads a P2pNccl registration frame (<see cref="P2pNcclRegistrationMessage"/>, owned by
/// PdApp.Protocol) and checks its addresses as the proxy uses them: <c>host:port</c> (<see cref="HostPort"/>).
/// </summary>
internal static class P2pNcclRegistration
{
    /// <summary>Parses a message, or explains why it is not a registration.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> payload, out P2pNcclRegistrationMessage? registration, out string error)
    {
        if (!P2pNcclRegistrationMessage.TryParse(payload, out registration, out error))
        {
            return false;
        }

        var invalid = !HostPort.TryParse(registration!.HttpAddress, out _, out _) ? (P2pNcclRegistrationMessage.HttpAddressKey, registration.HttpAddress)
            : !HostPort.TryParse(registration.ZmqAddress, out _, out _) ? (P2pNcclRegistrationMessage.ZmqAddressKey, registration.ZmqAddress)
            : default((string Key, string Value)?);
        if (invalid is { } bad)
        {
            registration = null;
            error = P2pNcclRegistrationMessage.AddressError(bad.Key, bad.Value);
            return false;
        }

        return true;
    }
}
