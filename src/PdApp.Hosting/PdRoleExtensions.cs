using PdApp.Protocol;

namespace PdApp.Hosting;

/// <summary>Maps a <see cref="PdRole"/> to vLLM's vocabulary.</summary>
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

    /// <summary>The lower-case name used in resource names and configuration (<c>prefill</c>, <c>decode</c>, <c>both</c>).</summary>
    /// <param name="role">The role.</param>
    /// <returns>The name.</returns>
    public static string ToConfigName(this PdRole role) => role switch
    {
        PdRole.Prefill => "prefill",
        PdRole.Decode => "decode",
        PdRole.Both => "both",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown PD role."),
    };
}
