namespace PdApp.Hosting.Deployment.Model;

/// <summary>A bind mount, from a <c>ContainerMountAnnotation</c>.</summary>
/// <param name="Source">The host path.</param>
/// <param name="Target">The path inside the container.</param>
/// <param name="IsReadOnly">Whether the mount is read-only.</param>
public sealed record DeploymentMount(string Source, string Target, bool IsReadOnly);
