namespace PdApp.Hosting.Deployment.Model;

/// <summary>An endpoint of a deployed service, from its <c>EndpointAnnotation</c>.</summary>
/// <param name="Name">The endpoint name (<c>http</c>, <c>registry</c>).</param>
/// <param name="Scheme">The URI scheme (<c>http</c>, <c>tcp</c>).</param>
/// <param name="Port">The port exposed on the host (compose) or the service (Kubernetes).</param>
/// <param name="TargetPort">The port the process listens on inside its container.</param>
public sealed record DeploymentEndpoint(string Name, string Scheme, int Port, int TargetPort);
