using System.Text.Json.Serialization;

namespace PdApp.Proxy.Endpoints.Admin;

/// <summary>The body of <c>POST /admin/instances</c>.</summary>
/// <param name="Name">Unique name shown to clients in errors; letters, digits and <c>. _ - @ #</c>, no IP address.</param>
/// <param name="Role">Prefill, Decode or Both (case-insensitive).</param>
/// <param name="Address">Absolute http(s) base URL, used as given (no service discovery).</param>
/// <param name="KvAddress">Optional KV address <c>host:port</c> (P2pNccl ZMQ address).</param>
public sealed record AddInstanceRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("address")] string? Address,
    [property: JsonPropertyName("kvAddress")] string? KvAddress);
