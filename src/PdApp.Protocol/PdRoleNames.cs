namespace PdApp.Protocol;

/// <summary>The lower-case names of the <see cref="PdRole"/>s, shared by resource names, configuration and metric labels.</summary>
public static class PdRoleNames
{
    /// <summary>The lower-case name used in resource names, configuration and metric labels (<c>prefill</c>, <c>decode</c>, <c>both</c>).</summary>
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
