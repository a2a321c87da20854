namespace PdApp.Proxy.Security;

/// <summary>
/// The proxy's one authentication scheme and its two authorization policies. Endpoints name a
/// policy (<c>RequireAuthorization(PdAccess.ClientPolicy)</c>); the scheme and the keys stay here.
/// </summary>
public static class PdAccess
{
    /// <summary>The bearer-key authentication scheme.</summary>
    public const string Scheme = "PdApiKey";

    /// <summary>The <c>/v1</c> routes: open unless <c>Pd:ApiKey</c> is set, then its bearer key is required.</summary>
    public const string ClientPolicy = "pd-client";

    /// <summary>The <c>/admin</c> routes: absent (404) unless <c>Pd:AdminApiKey</c> is set, then its bearer key is required.</summary>
    public const string AdminPolicy = "pd-admin";

    /// <summary><c>/metrics</c>: as <c>Pd:MetricsAccess</c> says (<see cref="MetricsAccess"/>).</summary>
    public const string MetricsPolicy = "pd-metrics";

    /// <summary>The admin API's audit log category: its changes and the refused admin keys.</summary>
    public const string AdminAuditLogCategory = "PdApp.Proxy.Admin";

    /// <summary>The client key's role claim.</summary>
    internal const string ClientRole = "client";

    /// <summary>The admin key's role claim.</summary>
    internal const string AdminRole = "admin";
}
