using System.Collections.Immutable;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;

namespace PdApp.Hosting.Topology;

/// <summary>Makes the topology visible: resource properties in the dashboard and a start-up log of the backend decision.</summary>
internal static class PdTopologyDiagnostics
{
    private const string LoggerCategory = "PdApp.Topology";

    internal static void ShowInDashboard(IDistributedApplicationBuilder builder, PdInstance instance, PdTopologyPlan plan, PdBackendDecision decision)
    {
        var properties = ImmutableArray.Create(
            new ResourcePropertySnapshot("pd.role", instance.Role.ToConfigName()) { DisplayName = "PD role", IsHighlighted = true },
            new ResourcePropertySnapshot("pd.connector", plan.Connector) { DisplayName = "KV connector", IsHighlighted = true },
            new ResourcePropertySnapshot("pd.gpus", plan.Backend == PdBackend.Vllm ? string.Join(',', instance.Plan.Layout.GpuIds) : "none") { DisplayName = "GPU ids", IsHighlighted = true },
            new ResourcePropertySnapshot("pd.backend", decision.Backend.ToString().ToLowerInvariant()) { DisplayName = "PD backend", IsHighlighted = true },
            new ResourcePropertySnapshot("pd.backend.reason", decision.Reason) { DisplayName = "PD backend reason" });
        if (plan.Options.KvEvents.IsEnabled && plan.Backend != PdBackend.External)
        {
            var layout = instance.Plan.Layout;
            var ports = layout.KvEventsReplayPort > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{layout.KvEventsPort} (replay {layout.KvEventsReplayPort})")
                : layout.KvEventsPort.ToString(CultureInfo.InvariantCulture);
            properties = properties.Add(new ResourcePropertySnapshot("pd.kv-events", ports) { DisplayName = "KV events port", IsHighlighted = true });
        }

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(instance.Resource, (e, _) =>
            e.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(
                instance.Resource,
                snapshot => snapshot with { Properties = [.. snapshot.Properties.Where(p => !p.Name.StartsWith("pd.", StringComparison.Ordinal)), .. properties] }));
    }

    internal static void LogOnStart(IDistributedApplicationBuilder builder, PdTopologyPlan plan, PdBackendDecision decision)
    {
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerCategory);
            logger.LogInformation("PD backend {Backend}: {Reason}", decision.Backend, decision.Reason);
            foreach (var instance in plan.Instances)
            {
                logger.LogInformation(
                    "PD instance {Name}: role {Role}, connector {Connector}, port {Port}, GPUs {Gpus}, KV address {KvAddress}",
                    instance.Name,
                    instance.Role,
                    plan.Connector,
                    instance.Layout.Port,
                    plan.Backend == PdBackend.Vllm ? string.Join(',', instance.Layout.GpuIds) : "none",
                    instance.KvConnector?.KvAddress ?? "-");
            }

            return Task.CompletedTask;
        });
    }
}
