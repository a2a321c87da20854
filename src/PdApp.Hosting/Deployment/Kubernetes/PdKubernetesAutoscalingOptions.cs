using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// Per-role autoscaling (<c>Pd:Kubernetes:Autoscaling:*</c>), off by default: for each enabled role an
/// <c>autoscaling/v2</c> HorizontalPodAutoscaler on the External metric <see cref="MetricName"/> selected by
/// <c>role</c>, which a custom-metrics adapter (prometheus-adapter) serves from the proxy's
/// <c>pdapp_instance_requests_outstanding{role}</c> series (see docs/deployment.md for the adapter rule).
/// </summary>
public sealed class PdKubernetesAutoscalingOptions
{
    /// <summary>The default <see cref="MetricName"/>.</summary>
    public const string DefaultMetricName = "pdapp_role_requests_outstanding";

    /// <summary>
    /// <c>MetricName</c>: the External metric the adapter serves (the sum by <c>role</c> of the proxy's
    /// <c>pdapp_instance_requests_outstanding</c>), default <see cref="DefaultMetricName"/>.
    /// </summary>
    public string MetricName { get; set; } = DefaultMetricName;

    /// <summary><c>Prefill:*</c>: the prefill role's autoscaler.</summary>
    public PdRoleAutoscalingOptions Prefill { get; set; } = new();

    /// <summary><c>Decode:*</c>: the decode role's autoscaler.</summary>
    public PdRoleAutoscalingOptions Decode { get; set; } = new();

    /// <summary><c>Both:*</c>: the autoscaler of engines that do both (<c>kv_both</c>).</summary>
    public PdRoleAutoscalingOptions Both { get; set; } = new();

    /// <summary>The settings of <paramref name="role"/>.</summary>
    /// <param name="role">The role.</param>
    /// <returns>Its settings.</returns>
    public PdRoleAutoscalingOptions For(PdRole role) => role switch
    {
        PdRole.Prefill => Prefill,
        PdRole.Decode => Decode,
        _ => Both,
    };

    /// <summary>The configuration path of <paramref name="role"/>'s settings, e.g. <c>Pd:Kubernetes:Autoscaling:Decode</c>.</summary>
    /// <param name="role">The role.</param>
    /// <returns>The path.</returns>
    public static string SectionOf(PdRole role) => $"{PdKubernetesOptions.SectionName}:Autoscaling:{role}";

    /// <summary>Checks the settings.</summary>
    /// <returns>One message per invalid setting, naming it; empty when valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var role in Enum.GetValues<PdRole>())
        {
            errors.AddRange(For(role).Validate(SectionOf(role)));
        }

        if (Enum.GetValues<PdRole>().Any(r => For(r).Enabled) && !IsMetricName(MetricName))
        {
            errors.Add($"{PdKubernetesOptions.SectionName}:Autoscaling:MetricName must be a metric name (letters, digits, '_', ':'), was '{MetricName}'.");
        }

        return errors;
    }

    private static bool IsMetricName(string? value) =>
        value is { Length: > 0 } && !char.IsAsciiDigit(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');
}
