using System.Diagnostics.CodeAnalysis;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>What backs the engines' data mount: a PersistentVolumeClaim or a node folder (<c>Pd:Kubernetes:ModelVolume</c>).</summary>
/// <param name="ClaimName">The claim, for <c>pvc:&lt;claim&gt;</c>.</param>
/// <param name="HostPath">The node folder, for <c>hostPath:&lt;path&gt;</c>.</param>
public sealed record KubernetesModelVolume(string? ClaimName, string? HostPath)
{
    /// <summary>Parses <c>pvc:&lt;claim&gt;</c> or <c>hostPath:&lt;absolute path&gt;</c>.</summary>
    /// <param name="text">The setting.</param>
    /// <param name="volume">The volume, when valid.</param>
    /// <returns>Whether the text is valid.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out KubernetesModelVolume? volume)
    {
        volume = null;
        var separator = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (separator <= 0)
        {
            return false;
        }

        var kind = text![..separator];
        var value = text[(separator + 1)..].Trim();
        if (kind.Equals("pvc", StringComparison.OrdinalIgnoreCase) && PdKubernetesOptions.IsDnsSubdomain(value))
        {
            volume = new KubernetesModelVolume(value, null);
        }
        else if (kind.Equals("hostPath", StringComparison.OrdinalIgnoreCase) && value.StartsWith('/'))
        {
            volume = new KubernetesModelVolume(null, value);
        }

        return volume is not null;
    }
}
