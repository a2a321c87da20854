using System.Text;

namespace PdApp.Hosting.Deployment.Model;

/// <summary>
/// A command-line argument or environment value read from the app model: literal text and references
/// (secrets, endpoints) that each deployment target renders its own way (<c>${HF_TOKEN}</c> in compose,
/// a <c>secretKeyRef</c> in Kubernetes).
/// </summary>
/// <param name="Parts">The parts, in order.</param>
public sealed record DeploymentValue(IReadOnlyList<DeploymentValuePart> Parts)
{
    /// <summary>A value of literal text only.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The value.</returns>
    public static DeploymentValue Literal(string text) => new([new LiteralPart(text)]);

    /// <summary>The secrets (parameters) the value refers to.</summary>
    public IEnumerable<DeploymentParameter> Parameters => Parts.OfType<ParameterPart>().Select(p => p.Parameter);

    /// <summary>Renders the value, each part through <paramref name="render"/>.</summary>
    /// <param name="render">Renders one part.</param>
    /// <returns>The text.</returns>
    public string Render(Func<DeploymentValuePart, string> render)
    {
        ArgumentNullException.ThrowIfNull(render);
        var text = new StringBuilder();
        foreach (var part in Parts)
        {
            text.Append(render(part));
        }

        return text.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => Render(part => part.ToString());
}
