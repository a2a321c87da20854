using Aspire.Hosting.ApplicationModel;

namespace PdApp.Hosting.Deployment.Model;

/// <summary>One part of a <see cref="DeploymentValue"/>.</summary>
public abstract record DeploymentValuePart;

/// <summary>Literal text.</summary>
/// <param name="Text">The text.</param>
public sealed record LiteralPart(string Text) : DeploymentValuePart
{
    /// <inheritdoc/>
    public override string ToString() => Text;
}

/// <summary>The value of an Aspire parameter (a secret such as <c>hf-token</c>), supplied at deployment time.</summary>
/// <param name="Parameter">The parameter.</param>
public sealed record ParameterPart(DeploymentParameter Parameter) : DeploymentValuePart
{
    /// <inheritdoc/>
    public override string ToString() => "{" + Parameter.Name + ".value}";
}

/// <summary>A property of another resource's endpoint (its URL, host, port).</summary>
/// <param name="ResourceName">The resource owning the endpoint.</param>
/// <param name="EndpointName">The endpoint.</param>
/// <param name="Property">Which property.</param>
public sealed record EndpointPart(string ResourceName, string EndpointName, EndpointProperty Property) : DeploymentValuePart
{
    /// <inheritdoc/>
    public override string ToString() => $"{{{ResourceName}.bindings.{EndpointName}.{Property}}}";
}
