using Aspire.Hosting;
using Aspire.Hosting.Publishing;

namespace PdApp.Hosting.Manifest;

/// <summary>
/// Writes a vLLM container to the Aspire manifest: the standard container fields, plus what Aspire leaves
/// out and a GPU deployment needs: the <c>docker run</c> options (<c>runtimeArgs</c>) and the PD facts
/// (<c>pd</c>: role, kv_role, connector, GPUs, host networking) that the compose/Kubernetes writers read.
/// </summary>
internal static class VllmManifestWriter
{
    public static async Task WriteAsync(ManifestPublishingContext context, VllmResource resource)
    {
        await context.WriteContainerAsync(resource).ConfigureAwait(false);

        var runtimeArgs = await resource.GetContainerRuntimeArgsAsync(context.CancellationToken).ConfigureAwait(false);
        var writer = context.Writer;
        writer.WriteStartArray("runtimeArgs");
        foreach (var arg in runtimeArgs)
        {
            writer.WriteStringValue(arg);
        }

        writer.WriteEndArray();

        writer.WriteStartObject("pd");
        writer.WriteString("role", resource.Role.ToConfigName());
        writer.WriteNumber("port", resource.Arguments.Port);
        writer.WriteString("kvRole", resource.KvConnector?.KvRole ?? resource.KvRole);
        if (resource.KvConnector is { } connector)
        {
            writer.WriteString("connector", connector.Name);
        }

        writer.WriteString("gpuVendor", resource.Container.GpuVendor.ToString().ToLowerInvariant());
        writer.WriteBoolean("allGpus", resource.Container.AllGpus);
        writer.WriteStartArray("gpuIds");
        foreach (var id in resource.Container.GpuIds)
        {
            writer.WriteNumberValue(id);
        }

        writer.WriteEndArray();
        writer.WriteBoolean("hostNetwork", resource.Container.HostNetwork);
        writer.WriteEndObject();
    }
}
