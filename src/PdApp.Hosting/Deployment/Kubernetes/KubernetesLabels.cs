using PdApp.Hosting.Deployment.Model;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>The recommended <c>app.kubernetes.io/*</c> labels plus the PD role label.</summary>
internal static class KubernetesLabels
{
    public const string Name = "app.kubernetes.io/name";
    public const string Instance = "app.kubernetes.io/instance";
    public const string Component = "app.kubernetes.io/component";
    public const string PartOf = "app.kubernetes.io/part-of";
    public const string ManagedBy = "app.kubernetes.io/managed-by";

    /// <summary>The PD role of an engine pod (<c>prefill</c>, <c>decode</c>, <c>both</c>); the role Services select on it.</summary>
    public const string Role = "pdapp.io/role";

    public const string EngineName = "vllm";
    public const string GatewayName = "pd-proxy";
    public const string GatewayComponent = "proxy";
    public const string Manager = "pdapp-apphost";

    /// <summary>All labels of one workload.</summary>
    public static Dictionary<string, string> For(string name, string instance, string component, string? role)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Name] = name,
            [Instance] = instance,
            [Component] = component,
            [PartOf] = DeploymentSnapshot.ApplicationName,
            [ManagedBy] = Manager,
        };
        if (role is not null)
        {
            labels[Role] = role;
        }

        return labels;
    }

    /// <summary>The labels selecting one workload's pods.</summary>
    public static Dictionary<string, string> Selector(string instance) => new(StringComparer.Ordinal)
    {
        [PartOf] = DeploymentSnapshot.ApplicationName,
        [Instance] = instance,
    };

    /// <summary>The labels selecting every engine pod.</summary>
    public static Dictionary<string, string> EngineSelector() => new(StringComparer.Ordinal)
    {
        [PartOf] = DeploymentSnapshot.ApplicationName,
        [Name] = EngineName,
    };

    /// <summary>The labels selecting every engine pod of a role.</summary>
    public static Dictionary<string, string> RoleSelector(string role) => new(StringComparer.Ordinal)
    {
        [PartOf] = DeploymentSnapshot.ApplicationName,
        [Role] = role,
    };
}
