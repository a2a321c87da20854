using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Hosting;
using PdApp.Hosting.Dashboard;
using PdApp.Hosting.Topology;
using PdApp.Protocol;

namespace Aspire.Hosting;

/// <summary>Makes the Aspire dashboard show a PD deployment: who is who, how they relate, and what to do.</summary>
public static class PdDashboardExtensions
{
    /// <summary>The generated secret parameter holding the proxy's admin API key (<c>Pd:AdminApiKey</c>).</summary>
    public const string AdminKeyParameterName = PdTopologyBuilderExtensions.AdminApiKeyParameterName;

    /// <summary>The proxy command that sends the seed's completion request.</summary>
    public const string SendTestRequestCommand = "pd-send-test-request";

    /// <summary>The instance command that drains it in the proxy.</summary>
    public const string DrainCommand = "pd-drain";

    /// <summary>The instance command that puts it back.</summary>
    public const string UndrainCommand = "pd-undrain";

    /// <summary>
    /// <c>Pd:Dashboard:VllmTraces</c>: give vLLM containers <c>--otlp-traces-endpoint</c> (default false:
    /// vLLM exits at start when the flag is given and its image lacks the OpenTelemetry packages, as
    /// images before vLLM PR #34466, Feb 2026, including the pinned PD ones, do).
    /// </summary>
    public const string VllmTracesKey = "Pd:Dashboard:VllmTraces";

    /// <summary>
    /// Dresses the PD proxy and its instances for the dashboard:
    /// <list type="bullet">
    /// <item>the instances are nested under the proxy (parent relationship), and the proxy shows a
    /// <c>prefill</c> or <c>decode</c> relationship to each;</item>
    /// <item>URLs: the proxy's OpenAI API (<c>/v1/models</c>) and Prometheus <c>/metrics</c>, each
    /// instance's OpenAI endpoint and <c>/metrics</c>;</item>
    /// <item>commands: <c>Send test request</c> on the proxy (the seed's completion request, result in
    /// the proxy's console log), <c>Drain</c> / <c>Undrain</c> on each instance (through the proxy's admin
    /// API, whose key is the secret parameter <c>pdapp-admin-api-key</c>: the one <c>Pd:UseAdminApiKey</c>
    /// declared, else generated here and passed as <c>Pd__AdminApiKey</c>, unless <paramref name="adminKey"/> is given);</item>
    /// <item>states: an engine the proxy keeps requests away from shows <c>Draining</c> or
    /// <c>Ejected: &lt;reason&gt;</c> instead of <c>Running</c> (polled from the admin API every few seconds);</item>
    /// <item>with <c>Pd:Dashboard:VllmTraces=true</c> (or <paramref name="vllmTraces"/>), vLLM containers
    /// send their request traces to the dashboard (<see cref="VllmOtlpExtensions.WithOtlpTracesEndpoint"/>;
    /// the image must contain OpenTelemetry).</item>
    /// </list>
    /// Role, connector and GPU ids are already resource properties (<c>AddPdInstances</c>). Nothing is
    /// added when publishing: the manifest and the deployment writers see the model unchanged.
    /// </summary>
    /// <param name="proxy">The proxy.</param>
    /// <param name="topology">The declared instances.</param>
    /// <param name="adminKey">The admin key parameter; null reuses or generates <c>pdapp-admin-api-key</c>.</param>
    /// <param name="vllmTraces">Whether vLLM containers export traces; null reads <see cref="VllmTracesKey"/>.</param>
    /// <returns>The proxy builder.</returns>
    public static IResourceBuilder<PdProxyResource> WithPdDashboard(
        this IResourceBuilder<PdProxyResource> proxy,
        PdTopology topology,
        IResourceBuilder<ParameterResource>? adminKey = null,
        bool? vllmTraces = null)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(topology);
        var app = proxy.ApplicationBuilder;
        var traces = vllmTraces ?? app.Configuration.GetValue(VllmTracesKey, false);

        // Commands, URLs and the key they need exist only while running: a published deployment
        // keeps the admin API off unless it is given its own Pd__AdminApiKey.
        if (app.ExecutionContext.IsPublishMode)
        {
            return proxy;
        }

        // One admin key: the parameter Pd:UseAdminApiKey declared (already given to the proxy), else one
        // generated once and kept in user secrets, so restarts keep the same key.
        var declared = app.Resources.OfType<ParameterResource>().FirstOrDefault(p => p.Name == AdminKeyParameterName);
        if (adminKey is null && declared is not null)
        {
            adminKey = app.CreateResourceBuilder(declared);
        }
        else
        {
            adminKey ??= PdProxyBuilderExtensions.AddGeneratedSecret(app, AdminKeyParameterName);
            proxy.WithEnvironment(PdProxySettings.ToEnvironmentVariable(PdProxySettings.AdminApiKey), adminKey);
        }

        // Each command click would otherwise log four HttpClient lines at Information; the commands log their own outcome.
        app.Services.AddHttpClient(PdDashboardCommands.HttpClientName).RemoveAllLoggers();
        var commands = new PdDashboardCommands(proxy.Resource, adminKey.Resource, topology.Plan.ServedModelName, PdProxyResource.HttpEndpointName);

        var endpoint = proxy.Resource.HttpEndpoint;
        proxy.WithUrlForEndpoint(PdProxyResource.HttpEndpointName, url =>
             {
                 url.Url = url.Url.TrimEnd('/') + VllmBuilderExtensions.ModelsPath;
                 url.DisplayText = "OpenAI API (/v1/models)";
             })
             .WithUrl($"{endpoint}{VllmBuilderExtensions.MetricsPath}", "Prometheus (/metrics)")
             .WithCommand(
                 SendTestRequestCommand,
                 "Send test request",
                 commands.SendTestRequestAsync,
                 new CommandOptions
                 {
                     Description = $"POST /v1/completions {{\"prompt\": \"{PdDashboardCommands.TestPrompt}\", \"max_tokens\": 50}} through prefill and decode; the answer goes to this resource's console log.",
                     IconName = "Send",
                     IsHighlighted = true,
                     UpdateState = context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running
                         ? ResourceCommandState.Enabled
                         : ResourceCommandState.Disabled,
                 });

        // The proxy's routing state of each engine (Draining, Ejected: reason) as the engine's dashboard state.
        var engines = topology.Instances.Select(i => (IResource)i.Resource).ToList();
        app.Services.AddSingleton(sp => new InstanceRoutingStateMonitor(sp, proxy.Resource, adminKey.Resource, PdProxyResource.HttpEndpointName, engines));
        app.Services.AddHostedService(sp => sp.GetRequiredService<InstanceRoutingStateMonitor>());

        foreach (var instance in topology.Instances)
        {
            var role = instance.Role.ToConfigName();
            proxy.WithRelationship(instance.Resource, role);
            var engine = app.CreateResourceBuilder(instance.Resource);
            engine.WithParentRelationship(proxy.Resource);
            if (instance.Resource is IResourceWithEndpoints && instance.External is null)
            {
                // The engine's own links (model list first, metrics) come from WithVllmDashboardUrls; name the role.
                engine.WithUrlForEndpoint(VllmResource.HttpEndpointName, url => url.DisplayText = $"{role}: OpenAI API (/v1/models)");
            }

            var target = instance.Resource;
            engine.WithCommand(
                DrainCommand,
                "Drain",
                context => commands.SetDrainingAsync(context, target, drain: true),
                new CommandOptions
                {
                    Description = $"The proxy stops sending new requests to {instance.Name}; those in flight finish.",
                    IconName = "ArrowExit",
                    ConfirmationMessage = $"Drain {instance.Name}? The proxy stops sending it new requests until it is undrained.",
                });
            engine.WithCommand(
                UndrainCommand,
                "Undrain",
                context => commands.SetDrainingAsync(context, target, drain: false),
                new CommandOptions
                {
                    Description = $"The proxy sends new requests to {instance.Name} again.",
                    IconName = "ArrowEnter",
                });

            if (traces && instance.Resource is VllmResource vllm)
            {
                app.CreateResourceBuilder(vllm).WithOtlpTracesEndpoint();
            }
        }

        return proxy;
    }
}
