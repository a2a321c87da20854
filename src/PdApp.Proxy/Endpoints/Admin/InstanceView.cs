using System.Text.Json.Serialization;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Endpoints.Admin;

/// <summary>An instance as the admin API shows it.</summary>
/// <param name="Name">Unique name.</param>
/// <param name="Role">Prefill, Decode or Both.</param>
/// <param name="Address">HTTP base address.</param>
/// <param name="KvAddress">KV address, if known.</param>
/// <param name="Source">Configuration, Registry, Admin or Dns.</param>
/// <param name="Healthy">The last active health check's verdict.</param>
/// <param name="Draining">Gets no new requests.</param>
/// <param name="RemoveWhenDrained">Will be removed once its last request ends.</param>
/// <param name="EjectedUntil">Passive ejection end, if ejected.</param>
/// <param name="Available">Whether new requests may go there now.</param>
/// <param name="Outstanding">Requests in flight through this proxy.</param>
/// <param name="Load">Last scraped load, if any.</param>
public sealed record InstanceView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("kvAddress")] string? KvAddress,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("healthy")] bool Healthy,
    [property: JsonPropertyName("draining")] bool Draining,
    [property: JsonPropertyName("removeWhenDrained")] bool RemoveWhenDrained,
    [property: JsonPropertyName("ejectedUntil")] DateTimeOffset? EjectedUntil,
    [property: JsonPropertyName("available")] bool Available,
    [property: JsonPropertyName("outstanding")] int Outstanding,
    [property: JsonPropertyName("load")] InstanceLoadView? Load)
{
    /// <summary>Builds the view of <paramref name="instance"/> at <paramref name="now"/>.</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The view.</returns>
    public static InstanceView From(UpstreamInstance instance, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var ejected = instance.EjectedUntil is { } until && until > now ? until : (DateTimeOffset?)null;
        return new InstanceView(
            instance.Name,
            instance.Role.ToString(),
            instance.BaseAddress.ToString(),
            instance.KvAddress,
            instance.Source.ToString(),
            instance.IsHealthy,
            instance.IsDraining,
            instance.RemoveWhenDrained,
            ejected,
            instance.IsAvailable(now),
            instance.Outstanding,
            instance.Load is { } load ? new InstanceLoadView(load.Running, load.Waiting, load.KvCacheUsage, load.ObservedAt) : null);
    }
}

/// <summary>Load gauges as the admin API shows them.</summary>
/// <param name="Running">Running requests.</param>
/// <param name="Waiting">Waiting requests.</param>
/// <param name="KvCacheUsage">KV cache usage, 0 to 1.</param>
/// <param name="ObservedAt">When scraped.</param>
public sealed record InstanceLoadView(
    [property: JsonPropertyName("running")] int Running,
    [property: JsonPropertyName("waiting")] int Waiting,
    [property: JsonPropertyName("kvCacheUsage")] double KvCacheUsage,
    [property: JsonPropertyName("observedAt")] DateTimeOffset ObservedAt);

/// <summary>The body of <c>GET /admin/instances</c>.</summary>
/// <param name="Data">The instances.</param>
public sealed record InstanceListView([property: JsonPropertyName("data")] IReadOnlyList<InstanceView> Data)
{
    /// <summary>Always <c>list</c>, as in OpenAI list responses.</summary>
    [JsonPropertyName("object")]
    public string Object => "list";
}
