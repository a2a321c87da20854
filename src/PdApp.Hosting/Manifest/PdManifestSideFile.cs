using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Publishing;

namespace PdApp.Hosting.Manifest;

/// <summary>
/// The GPU facts of the vLLM containers that the Aspire manifest schema (<c>aspire-8.0.json</c>) has no place for:
/// per resource the <c>docker run</c> options (<c>runtimeArgs</c>: <c>--gpus</c>, <c>--ipc=host</c>, ulimits, host
/// networking) and the PD facts (<c>pd</c>: role, port, kv_role, connector, GPUs). Written next to the manifest as
/// <c>&lt;manifest&gt;.pd.json</c> (<c>aspire-manifest.json</c> gives <c>aspire-manifest.pd.json</c>), so the manifest
/// itself stays valid for azd and other consumers (container.v0 allows no extra properties).
/// </summary>
internal sealed class PdManifestSideFile
{
    /// <summary>The side file's extension, replacing the manifest's <c>.json</c>.</summary>
    public const string Extension = ".pd.json";

    // One side file per manifest being written: keyed by the publishing context, so nothing outlives a run and a
    // stale file from an earlier run is overwritten by the first resource of this one.
    private static readonly ConditionalWeakTable<ManifestPublishingContext, PdManifestSideFile> Files = [];

    private readonly JsonObject _resources = [];

    private PdManifestSideFile(string path) => Path = path;

    /// <summary>The side file's path.</summary>
    public string Path { get; }

    /// <summary>The side file of the manifest <paramref name="context"/> writes.</summary>
    public static PdManifestSideFile For(ManifestPublishingContext context) =>
        Files.GetValue(context, c => new PdManifestSideFile(PathFor(c.ManifestPath)));

    /// <summary>The side file's path for a manifest at <paramref name="manifestPath"/>.</summary>
    public static string PathFor(string manifestPath) => System.IO.Path.ChangeExtension(manifestPath, null) + Extension;

    /// <summary>Adds (or replaces) <paramref name="resourceName"/>'s entry and rewrites the file.</summary>
    public async Task WriteAsync(string resourceName, JsonObject entry, CancellationToken cancellationToken)
    {
        _resources[resourceName] = entry;
        var document = new JsonObject { ["resources"] = _resources.DeepClone() };
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(Path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken).ConfigureAwait(false);
    }
}
