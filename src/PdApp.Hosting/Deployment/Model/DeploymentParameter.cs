using System.Text;

namespace PdApp.Hosting.Deployment.Model;

/// <summary>An Aspire parameter the deployment needs a value for (<c>hf-token</c>, <c>vllm-api-key</c>).</summary>
/// <param name="Name">The parameter's name in the app model.</param>
/// <param name="IsSecret">Whether it is a secret: never written as a literal into a deployment file.</param>
/// <param name="Value">The configured value of a non-secret parameter, if any; always null for secrets.</param>
public sealed record DeploymentParameter(string Name, bool IsSecret, string? Value)
{
    /// <summary>The environment-variable form of the name: <c>hf-token</c> becomes <c>HF_TOKEN</c>.</summary>
    public string EnvironmentVariableName
    {
        get
        {
            var name = new StringBuilder(Name.Length);
            foreach (var c in Name)
            {
                name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
            }

            return name.ToString();
        }
    }
}
