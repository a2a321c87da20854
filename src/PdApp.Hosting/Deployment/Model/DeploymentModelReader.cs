using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Logging;

namespace PdApp.Hosting.Deployment.Model;

/// <summary>
/// Reads a built (never started) app model into a <see cref="DeploymentSnapshot"/>: images from
/// <see cref="ContainerImageAnnotation"/>, arguments and environment through Aspire's own
/// <see cref="ExecutionConfigurationBuilder"/> in publish mode (so references stay references instead of
/// waiting for endpoint allocation), mounts, endpoints, and the engines' typed container settings.
/// </summary>
/// <param name="logger">Receives Aspire's evaluation diagnostics.</param>
public sealed class DeploymentModelReader(ILogger logger)
{
    /// <summary>
    /// Port a project listens on in its container when its endpoint names none: the .NET SDK's container
    /// images set <c>ASPNETCORE_HTTP_PORTS=8080</c>.
    /// </summary>
    internal const int DefaultProjectTargetPort = 8080;

    /// <summary>The proxy's drain setting as an environment variable (<c>Pd:Proxy:ShutdownTimeoutSeconds</c>).</summary>
    internal const string ShutdownTimeoutVariable = "Pd__Proxy__ShutdownTimeoutSeconds";

    private readonly ILogger _logger = logger ?? throw new ArgumentNullException(nameof(logger));

    /// <summary>Reads <paramref name="model"/>.</summary>
    /// <param name="model">The app model: vLLM containers, one <see cref="PdProxyResource"/>, parameters.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="InvalidOperationException">The model holds something a deployment cannot carry (a simulator project, an unknown container).</exception>
    public async Task<DeploymentSnapshot> ReadAsync(DistributedApplicationModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var context = new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish);
        var parameters = new Dictionary<string, DeploymentParameter>(StringComparer.Ordinal);
        var engines = new List<DeploymentEngine>();
        var proxies = new List<PdProxyResource>();
        var projects = new List<ProjectResource>();

        foreach (var resource in model.Resources)
        {
            switch (resource)
            {
                case VllmResource vllm:
                    engines.Add(await ReadEngineAsync(vllm, context, parameters, cancellationToken).ConfigureAwait(false));
                    break;
                case PdProxyResource proxy:
                    proxies.Add(proxy);
                    break;
                case ProjectResource project:
                    projects.Add(project);
                    break;
                case ParameterResource or ExternalServiceResource:
                    // Parameters are collected where they are referenced; external services are URLs the proxy is given.
                    break;
                case ContainerResource container:
                    throw new InvalidOperationException(
                        $"Resource '{container.Name}' is a container the deployment writers do not know; only vLLM engines and the PD proxy are deployed.");
                default:
                    _logger.LogDebug("Resource {Resource} ({Type}) is not deployed", resource.Name, resource.GetType().Name);
                    break;
            }
        }

        if (projects.Count > 0)
        {
            throw new InvalidOperationException(
                $"Expected no project besides the PD proxy in the app model, found {projects.Count}: {string.Join(", ", projects.Select(p => p.Name))}. " +
                "Publish with Pd:Backend=vllm (or auto) so the engines are vLLM containers rather than simulator projects.");
        }

        if (proxies.Count != 1)
        {
            throw new InvalidOperationException(
                $"Expected exactly one PD proxy ({nameof(PdProxyBuilderExtensions.AddPdProxy)}) in the app model, found {proxies.Count}.");
        }

        var gateway = await ReadGatewayAsync(proxies[0], context, parameters, cancellationToken).ConfigureAwait(false);
        return new DeploymentSnapshot(engines, gateway, [.. parameters.Values]);
    }

    private async Task<DeploymentEngine> ReadEngineAsync(
        VllmResource resource,
        DistributedApplicationExecutionContext context,
        Dictionary<string, DeploymentParameter> parameters,
        CancellationToken cancellationToken)
    {
        if (!resource.TryGetContainerImageName(out var image))
        {
            throw new InvalidOperationException($"vLLM resource '{resource.Name}' has no container image.");
        }

        var (evaluatedArgs, evaluatedEnvironment) = await EvaluateAsync(resource, context, parameters, cancellationToken).ConfigureAwait(false);
        var (args, environment) = EngineApiKey.MoveToEnvironment(evaluatedArgs, evaluatedEnvironment);
        var container = resource.Container;
        var gpuCount = container.GpuIds.Count > 0
            ? container.GpuIds.Count
            : (resource.Arguments.TensorParallelSize ?? 1) * (resource.Arguments.PipelineParallelSize ?? 1);

        return new DeploymentEngine
        {
            Name = resource.Name,
            Role = resource.Role,
            Image = image,
            Entrypoint = string.IsNullOrEmpty(resource.Entrypoint) ? null : resource.Entrypoint,
            Args = args,
            Environment = environment,
            Mounts = [.. resource.Annotations.OfType<ContainerMountAnnotation>()
                .Where(m => m.Type == ContainerMountType.BindMount && m.Source is not null)
                .Select(m => new DeploymentMount(m.Source!, m.Target, m.IsReadOnly))],
            Endpoints = ReadEndpoints(resource),
            Gpus = new DeploymentGpus(container.AllGpus, [.. container.GpuIds], container.AllGpus || container.GpuIds.Count > 0 ? gpuCount : 0, container.GpuVendor),
            HostIpc = container.HostIpc,
            UnlimitedMemlock = container.UnlimitedMemlock,
            StackLimitBytes = container.StackLimitBytes,
            Privileged = container.Privileged,
            Capabilities = [.. container.Capabilities],
            HostNetwork = container.HostNetwork,
            HealthPath = VllmResource.HealthPath,
        };
    }

    private async Task<DeploymentGateway> ReadGatewayAsync(
        PdProxyResource resource,
        DistributedApplicationExecutionContext context,
        Dictionary<string, DeploymentParameter> parameters,
        CancellationToken cancellationToken)
    {
        var (_, environment) = await EvaluateAsync(resource, context, parameters, cancellationToken).ConfigureAwait(false);
        var drain = environment.Where(e => e.Key == ShutdownTimeoutVariable)
            .Select(e => int.TryParse(e.Value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : (int?)null)
            .FirstOrDefault(s => s is not null);
        return new DeploymentGateway
        {
            Name = resource.Name,
            Environment = environment,
            DrainSeconds = drain ?? DeploymentDefaults.ProxyDrainSeconds,
            // Aspire gives a project an https endpoint in publish mode; the proxy's image has no certificate and
            // TLS ends at the ingress or load balancer, so only plain endpoints are deployed.
            Endpoints = [.. ReadEndpoints(resource).Where(e => e.Scheme != Uri.UriSchemeHttps)],

            HttpEndpointName = PdProxyResource.HttpEndpointName,
            HealthPath = PdProxyResource.HealthPath,
            AlivePath = PdProxyResource.AlivePath,
        };
    }

    private static List<DeploymentEndpoint> ReadEndpoints(IResource resource) =>
        [.. resource.Annotations.OfType<EndpointAnnotation>().Select(e =>
        {
            var target = e.TargetPort ?? e.Port ?? DefaultProjectTargetPort;
            return new DeploymentEndpoint(e.Name, e.UriScheme, e.Port ?? target, target);
        })];

    private async Task<(List<DeploymentValue> Args, List<KeyValuePair<string, DeploymentValue>> Environment)> EvaluateAsync(
        IResource resource,
        DistributedApplicationExecutionContext context,
        Dictionary<string, DeploymentParameter> parameters,
        CancellationToken cancellationToken)
    {
        // Publish mode: endpoint references come back unresolved instead of waiting for allocation.
        var configuration = await ExecutionConfigurationBuilder.Create(resource)
            .WithArgumentsConfig()
            .WithEnvironmentVariablesConfig()
            .BuildAsync(context, _logger, cancellationToken)
            .ConfigureAwait(false);
        if (configuration.Exception is { } exception)
        {
            throw new InvalidOperationException($"Could not evaluate the arguments and environment of '{resource.Name}': {exception.Message}", exception);
        }

        var args = new List<DeploymentValue>();
        foreach (var (unprocessed, processed, _) in configuration.ArgumentsWithUnprocessed)
        {
            args.Add(await ConvertAsync(resource, unprocessed, processed, parameters, cancellationToken).ConfigureAwait(false));
        }

        var environment = new List<KeyValuePair<string, DeploymentValue>>();
        foreach (var (key, (unprocessed, processed)) in configuration.EnvironmentVariablesWithUnprocessed)
        {
            environment.Add(new(key, await ConvertAsync(resource, unprocessed, processed, parameters, cancellationToken).ConfigureAwait(false)));
        }

        return (args, environment);
    }

    private async Task<DeploymentValue> ConvertAsync(
        IResource owner,
        object? unprocessed,
        string? processed,
        Dictionary<string, DeploymentParameter> parameters,
        CancellationToken cancellationToken)
    {
        var parts = new List<DeploymentValuePart>();
        await AppendAsync(owner, unprocessed, processed, parts, parameters, cancellationToken).ConfigureAwait(false);
        return new DeploymentValue(parts);
    }

    private async Task AppendAsync(
        IResource owner,
        object? value,
        string? processed,
        List<DeploymentValuePart> parts,
        Dictionary<string, DeploymentParameter> parameters,
        CancellationToken cancellationToken)
    {
        switch (value)
        {
            case null:
                parts.Add(new LiteralPart(processed ?? string.Empty));
                break;
            case string text:
                parts.Add(new LiteralPart(text));
                break;
            case ParameterResource parameter:
                parts.Add(new ParameterPart(await GetParameterAsync(parameter, parameters, cancellationToken).ConfigureAwait(false)));
                break;
            case EndpointReference endpoint:
                parts.Add(new EndpointPart(endpoint.Resource.Name, endpoint.EndpointName, EndpointProperty.Url));
                break;
            case EndpointReferenceExpression property:
                parts.Add(new EndpointPart(property.Endpoint.Resource.Name, property.Endpoint.EndpointName, property.Property));
                break;
            case ReferenceExpression expression:
                await AppendExpressionAsync(owner, expression, parts, parameters, cancellationToken).ConfigureAwait(false);
                break;
            case IValueProvider or IManifestExpressionProvider:
                throw new InvalidOperationException(
                    $"'{owner.Name}' has a value of type {value.GetType().Name} ({processed}) the deployment writers cannot express; " +
                    "use literals, parameters or endpoint references.");
            default:
                parts.Add(new LiteralPart(processed ?? Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty));
                break;
        }
    }

    private async Task AppendExpressionAsync(
        IResource owner,
        ReferenceExpression expression,
        List<DeploymentValuePart> parts,
        Dictionary<string, DeploymentParameter> parameters,
        CancellationToken cancellationToken)
    {
        // ReferenceExpression.Format is a composite format string: "{0}" marks ValueProviders[0], "{{" a brace.
        var format = expression.Format;
        var literal = new System.Text.StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if ((c == '{' || c == '}') && i + 1 < format.Length && format[i + 1] == c)
            {
                literal.Append(c);
                i++;
                continue;
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            var end = format.IndexOf('}', i);
            var index = int.Parse(format.AsSpan(i + 1, end - i - 1).ToString().Split(':', ',')[0], CultureInfo.InvariantCulture);
            if (literal.Length > 0)
            {
                parts.Add(new LiteralPart(literal.ToString()));
                literal.Clear();
            }

            await AppendAsync(owner, expression.ValueProviders[index], null, parts, parameters, cancellationToken).ConfigureAwait(false);
            i = end;
        }

        if (literal.Length > 0)
        {
            parts.Add(new LiteralPart(literal.ToString()));
        }
    }

    private static async Task<DeploymentParameter> GetParameterAsync(
        ParameterResource parameter,
        Dictionary<string, DeploymentParameter> parameters,
        CancellationToken cancellationToken)
    {
        if (parameters.TryGetValue(parameter.Name, out var known))
        {
            return known;
        }

        string? value = null;
        if (!parameter.Secret)
        {
            try
            {
                value = await parameter.GetValueAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MissingParameterValueException)
            {
                // Written as a placeholder for the operator to fill in.
            }
        }

        var result = new DeploymentParameter(parameter.Name, parameter.Secret, value);
        parameters[parameter.Name] = result;
        return result;
    }
}
