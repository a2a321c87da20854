namespace PdApp.Hosting.Topology;

/// <summary><c>Pd:SharedStorage</c>: settings of <c>SharedStorageConnector</c>.</summary>
public sealed class PdSharedStorageOptions
{
    /// <summary>Where KV files go, as the engines see it; must lie under the <c>/data</c> mount so both sides share it.</summary>
    public string Path { get; set; } = "/data/models/pd_local_storage";
}
