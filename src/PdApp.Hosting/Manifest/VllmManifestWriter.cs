using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.Publishing;
using PdApp.Protocol;

namespace PdApp.Hosting.Manifest;

/// <summary>
/// Writes a vLLM container to the Aspire manifest: exactly the standard <c>container.v0</c> fields, which the
/// official schema (<c>aspire-8.0.json</c>) allows, and what Aspire leaves out and a GPU deployment needs, the
/// <c>docker run</c> options and the PD facts, into the side file <see cref="PdManifestSideFile"/>.
/// </summary>
internal static class VllmManifestWriter
{
    public static async Task WriteAsync(ManifestPublishingContext context, VllmResource resource)
    {
        await context.WriteContainerAsync(resource).ConfigureAwait(false);

        var runtimeArgs = await resource.GetContainerRuntimeArgsAsync(context.CancellationToken).ConfigureAwait(false);
        var pd = new JsonObject
        {
            ["role"] = resource.Role.ToConfigName(),
            ["port"] = resource.Arguments.Port,
            ["kvRole"] = resource.KvConnector?.KvRole ?? resource.KvRole,
        };
        if (resource.KvConnector is { } connector)
        {
            pd["connector"] = connector.Name;
        }

        pd["gpuVendor"] = resource.Container.GpuVendor.ToString().ToLowerInvariant();
        pd["allGpus"] = resource.Container.AllGpus;
        pd["gpuIds"] = new JsonArray([.. resource.Container.GpuIds.Select(id => (JsonNode)id)]);
        pd["hostNetwork"] = resource.Container.HostNetwork;

        var entry = new JsonObject
        {
            ["runtimeArgs"] = new JsonArray([.. runtimeArgs.Select(a => (JsonNode)a)]),
            ["pd"] = pd,
        };
        await PdManifestSideFile.For(context).WriteAsync(resource.Name, entry, context.CancellationToken).ConfigureAwait(false);
    }
}
