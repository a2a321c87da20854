using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using k8s.Models;
using PdApp.Hosting.Deployment.Model;
using PdApp.Hosting.Topology;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// Renders app-model values for Kubernetes: endpoint references to an engine become its role's host
/// (<see cref="KubernetesRoleGroup.HostOf"/>: the role's Service, or a StatefulSet pod's stable name) on the
/// role's port, secrets become <c>$(VAR)</c> references to environment variables filled
/// from the Secret (<c>secretKeyRef</c>), and the container-host alias the model gives instances for the
/// proxy (<c>host.docker.internal</c>) becomes the proxy's Service.
/// </summary>
internal sealed class KubernetesValues(DeploymentSnapshot snapshot, IReadOnlyList<KubernetesRoleGroup> roles, PdKubernetesOptions options)
{
    private readonly Dictionary<string, (string Host, IReadOnlyList<DeploymentEndpoint> Endpoints)> _engines =
        roles.SelectMany(g => g.Engines.Select((e, ordinal) => (e.Name, Value: (g.HostOf(ordinal), g.Template.Endpoints))))
            .ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);

    /// <summary>The host name engines reach the proxy at: its Service.</summary>
    public string GatewayHost => snapshot.Gateway.Name;

    /// <summary>Renders a value used in <c>args</c> or an env <c>value</c>, where Kubernetes expands <c>$(VAR)</c>.</summary>
    public string Render(DeploymentValue value) => value.Render(part => part switch
    {
        // $$( keeps a literal "$(" from being expanded as a variable reference.
        LiteralPart literal => literal.Text
            .Replace(PdAddresses.ContainerHostAlias, snapshot.Gateway.Name, StringComparison.Ordinal)
            .Replace("$(", "$$(", StringComparison.Ordinal),
        ParameterPart { Parameter: { IsSecret: false, Value: { } v } } => v,
        ParameterPart parameter => "$(" + parameter.Parameter.EnvironmentVariableName + ")",
        EndpointPart endpoint => RenderEndpoint(endpoint),
        _ => throw new InvalidOperationException($"Unknown value part {part.GetType().Name}."),
    });

    /// <summary>
    /// The environment of one container: secret parameters first (from the Secret, so later values can use
    /// <c>$(VAR)</c>), then every variable of the model, except those <paramref name="skip"/> rejects.
    /// </summary>
    public List<V1EnvVar> Environment(
        IEnumerable<KeyValuePair<string, DeploymentValue>> environment,
        IEnumerable<DeploymentValue> args,
        Func<string, bool> skip)
    {
        var list = environment.Where(e => !skip(e.Key)).ToList();
        var secrets = list.SelectMany(e => e.Value.Parameters)
            .Concat(args.SelectMany(a => a.Parameters))
            .Where(IsFromSecret)
            .DistinctBy(p => p.Name)
            .ToList();

        var result = secrets.Select(SecretVariable).ToList();
        foreach (var (key, value) in list)
        {
            if (value.Parts is [ParameterPart { Parameter: var parameter }] && IsFromSecret(parameter))
            {
                if (key != parameter.EnvironmentVariableName)
                {
                    result.Add(new V1EnvVar { Name = key, ValueFrom = SecretSource(parameter) });
                }

                continue;
            }

            result.Add(new V1EnvVar { Name = key, Value = Render(value) });
        }

        return result;
    }

    /// <summary>Whether a parameter's value comes from the Secret (secrets, and non-secrets without a configured value).</summary>
    public static bool IsFromSecret(DeploymentParameter parameter) => parameter.IsSecret || parameter.Value is null;

    private V1EnvVar SecretVariable(DeploymentParameter parameter) =>
        new() { Name = parameter.EnvironmentVariableName, ValueFrom = SecretSource(parameter) };

    private V1EnvVarSource SecretSource(DeploymentParameter parameter) =>
        new() { SecretKeyRef = new V1SecretKeySelector { Name = options.SecretName, Key = parameter.Name } };

    private string RenderEndpoint(EndpointPart part)
    {
        // Engines are reached through their role's headless Service on the role's port; the proxy through its
        // Service port.
        DeploymentEndpoint endpoint;
        int port;
        string host;
        if (_engines.TryGetValue(part.ResourceName, out var engine))
        {
            endpoint = Find(engine.Endpoints, part);
            port = endpoint.TargetPort;
            host = engine.Host;
        }
        else if (part.ResourceName == snapshot.Gateway.Name)
        {
            endpoint = Find(snapshot.Gateway.Endpoints, part);
            port = endpoint.Port;
            host = part.ResourceName;
        }
        else
        {
            throw new InvalidOperationException($"A value refers to endpoint '{part.EndpointName}' of '{part.ResourceName}', which is not deployed.");
        }

        var portText = port.ToString(CultureInfo.InvariantCulture);
        return part.Property switch
        {
            EndpointProperty.Url => $"{endpoint.Scheme}://{host}:{portText}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => host,
            EndpointProperty.Port => portText,
            EndpointProperty.TargetPort => endpoint.TargetPort.ToString(CultureInfo.InvariantCulture),
            EndpointProperty.HostAndPort => $"{host}:{portText}",
            EndpointProperty.Scheme => endpoint.Scheme,
            _ => throw new InvalidOperationException($"Endpoint property {part.Property} of '{part.ResourceName}' has no Kubernetes equivalent."),
        };
    }

    private static DeploymentEndpoint Find(IReadOnlyList<DeploymentEndpoint> endpoints, EndpointPart part) =>
        endpoints.FirstOrDefault(e => e.Name == part.EndpointName)
        ?? throw new InvalidOperationException($"'{part.ResourceName}' has no endpoint '{part.EndpointName}'.");
}
