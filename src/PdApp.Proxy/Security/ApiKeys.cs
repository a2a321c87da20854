using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Security;

/// <summary>The configured keys as digests (hashed once at start-up).</summary>
internal sealed class ApiKeys(IOptions<ApiKeyOptions> options)
{
    /// <summary>The client key, or null when <c>/v1</c> is open.</summary>
    public ApiKeyDigest? Client { get; } = ApiKeyDigest.Of(options.Value.ClientKey);

    /// <summary>The admin key, or null when the admin API is disabled.</summary>
    public ApiKeyDigest? Admin { get; } = ApiKeyDigest.Of(options.Value.AdminKey);
}
