namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// One role's HorizontalPodAutoscaler (<c>Pd:Kubernetes:Autoscaling:{Prefill|Decode|Both}:*</c>): off by default; when
/// on, the role's workload is scaled between <see cref="MinReplicas"/> and <see cref="MaxReplicas"/> pods on the proxy's
/// in-flight requests to the role, aiming at <see cref="TargetValue"/> per pod.
/// </summary>
public sealed class PdRoleAutoscalingOptions
{
    /// <summary><c>Enabled</c>: write a HorizontalPodAutoscaler for the role, default false.</summary>
    public bool Enabled { get; set; }

    /// <summary><c>MinReplicas</c>: the fewest pods, at least 1 (the proxy needs an instance of the role), default 1.</summary>
    public int MinReplicas { get; set; } = 1;

    /// <summary><c>MaxReplicas</c>: the most pods (bounded by the GPUs the cluster has for the role), default 4.</summary>
    public int MaxReplicas { get; set; } = 4;

    /// <summary>
    /// <c>TargetValue</c>: the requests the proxy has in flight per pod of the role that the autoscaler aims at
    /// (the metric's <c>averageValue</c>), default 8.
    /// </summary>
    public int TargetValue { get; set; } = 8;

    /// <summary>Checks the settings.</summary>
    /// <param name="prefix">The settings' configuration path, e.g. <c>Pd:Kubernetes:Autoscaling:Decode</c>.</param>
    /// <returns>One message per invalid setting, naming it; empty when valid or disabled.</returns>
    public IReadOnlyList<string> Validate(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var errors = new List<string>();
        if (!Enabled)
        {
            return errors;
        }

        if (MinReplicas < 1)
        {
            errors.Add($"{prefix}:MinReplicas must be at least 1 (was {MinReplicas}): the proxy needs one instance of the role.");
        }

        if (MaxReplicas < MinReplicas)
        {
            errors.Add($"{prefix}:MaxReplicas must be at least {prefix}:MinReplicas (was {MaxReplicas} < {MinReplicas}).");
        }

        if (TargetValue < 1)
        {
            errors.Add($"{prefix}:TargetValue must be at least 1 in-flight request per pod (was {TargetValue}).");
        }

        return errors;
    }
}
