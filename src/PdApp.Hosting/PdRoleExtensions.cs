using PdApp.Protocol;

namespace PdApp.Hosting;

/// <summary>Maps a <see cref="PdRole"/> to vLLM's vocabulary (its lower-case name: <see cref="PdRoleNames.ToConfigName"/>).</summary>
public static class PdRoleExtensions
{
    /// <summary>The <c>kv_role</c> of an instance in <paramref name="role"/>.</summary>
    /// <param name="role">The role.</param>
    /// <returns><see cref="KvRoles.Producer"/>, <see cref="KvRoles.Consumer"/> or <see cref="KvRoles.Both"/>.</returns>
    public static string ToKvRole(this PdRole role) => role switch
    {
        PdRole.Prefill => KvRoles.Producer,
        PdRole.Decode => KvRoles.Consumer,
        PdRole.Both => KvRoles.Both,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown PD role."),
    };
}
