using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Proxy.Security;

namespace PdApp.Proxy.Endpoints.Admin;

/// <summary>The admin API's audit log: every change (rejected keys are logged by the security layer under the same category).</summary>
internal static partial class AdminLog
{
    public const string Category = PdAccess.AdminAuditLogCategory;

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: added instance {Name} ({Role}) at {Address}, KV address {KvAddress}")]
    public static partial void Added(ILogger logger, string name, PdRole role, Uri address, string? kvAddress);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: removed instance {Name}")]
    public static partial void Removed(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: instance {Name} drains and is removed after its {Outstanding} in-flight request(s)")]
    public static partial void DrainingForRemoval(ILogger logger, string name, int outstanding);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: instance {Name} drained")]
    public static partial void Drained(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin API: instance {Name} undrained")]
    public static partial void Undrained(ILogger logger, string name);

}
