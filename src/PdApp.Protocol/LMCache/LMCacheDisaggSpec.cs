using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdApp.Protocol.LMCache;

/// <summary>
/// <c>kv_transfer_params.disagg_spec</c>, which tells an LMCache PD sender (prefill) where to push one
/// request's KV: the receiver's host and, per tensor-parallel rank, its NIXL init and allocation ports
/// (LMCache's vllm_v1_adapter reads it into <c>DisaggSpec</c>; its examples/disagg_prefill proxy writes
/// it). When the transfer is done the sender pushes an <see cref="LMCacheProxyNotification"/> with
/// <see cref="RequestId"/> to the proxy, once per rank. Without it the sender transfers nothing.
/// </summary>
/// <param name="RequestId"><c>req_id</c>: the id the notification carries back.</param>
/// <param name="ReceiverHost"><c>receiver_host</c>: the decode's address, reachable from prefill.</param>
/// <param name="ReceiverInitPorts"><c>receiver_init_port</c>: one per rank.</param>
/// <param name="ReceiverAllocPorts"><c>receiver_alloc_port</c>: one per rank.</param>
public sealed record LMCacheDisaggSpec(string RequestId, string ReceiverHost, IReadOnlyList<int> ReceiverInitPorts, IReadOnlyList<int> ReceiverAllocPorts)
{
    /// <summary>The <c>kv_transfer_params</c> key.</summary>
    public const string Key = "disagg_spec";

    /// <summary><c>req_id</c>.</summary>
    public const string RequestIdKey = "req_id";

    /// <summary><c>receiver_host</c>.</summary>
    public const string ReceiverHostKey = "receiver_host";

    /// <summary><c>receiver_init_port</c>.</summary>
    public const string ReceiverInitPortKey = "receiver_init_port";

    /// <summary><c>receiver_alloc_port</c>.</summary>
    public const string ReceiverAllocPortKey = "receiver_alloc_port";

    /// <summary>The number of tensor-parallel ranks, each sending one notification.</summary>
    public int Ranks => ReceiverInitPorts.Count;

    /// <summary>Writes the spec as a JSON object.</summary>
    /// <param name="writer">The writer, positioned where a value goes.</param>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString(RequestIdKey, RequestId);
        writer.WriteString(ReceiverHostKey, ReceiverHost);
        WritePorts(writer, ReceiverInitPortKey, ReceiverInitPorts);
        WritePorts(writer, ReceiverAllocPortKey, ReceiverAllocPorts);
        writer.WriteEndObject();
    }

    /// <summary>Reads the spec from <c>kv_transfer_params</c>.</summary>
    /// <param name="kvTransferParams">The request's <c>kv_transfer_params</c>, or null.</param>
    /// <param name="spec">The spec, when present and well formed.</param>
    /// <param name="error">Why a present spec is malformed, else null.</param>
    /// <returns>True when a well-formed spec is present.</returns>
    public static bool TryRead(JsonObject? kvTransferParams, out LMCacheDisaggSpec? spec, out string? error)
    {
        spec = null;
        error = null;
        if (kvTransferParams?[Key] is not { } node)
        {
            return false;
        }

        if (node is not JsonObject value
            || Text(value[RequestIdKey]) is not { } requestId
            || Text(value[ReceiverHostKey]) is not { } host
            || Ports(value[ReceiverInitPortKey]) is not { Count: > 0 } init
            || Ports(value[ReceiverAllocPortKey]) is not { } alloc
            || alloc.Count != init.Count)
        {
            error = $"kv_transfer_params.{Key} must be {{\"{RequestIdKey}\": str, \"{ReceiverHostKey}\": str, \"{ReceiverInitPortKey}\": [int], \"{ReceiverAllocPortKey}\": [int]}} with one port of each per rank";
            return false;
        }

        spec = new LMCacheDisaggSpec(requestId, host, init, alloc);
        return true;
    }

    private static void WritePorts(Utf8JsonWriter writer, string name, IReadOnlyList<int> ports)
    {
        writer.WriteStartArray(name);
        foreach (var port in ports)
        {
            writer.WriteNumberValue(port);
        }

        writer.WriteEndArray();
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    private static List<int>? Ports(JsonNode? node)
    {
        if (node is not JsonArray array)
        {
            return null;
        }

        var ports = new List<int>(array.Count);
        foreach (var item in array)
        {
            if (item is not JsonValue value || !value.TryGetValue<int>(out var port) || port is <= 0 or > 65535)
            {
                return null;
            }

            ports.Add(port);
        }

        return ports;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{RequestId} -> {ReceiverHost} init [{string.Join(',', ReceiverInitPorts)}] alloc [{string.Join(',', ReceiverAllocPorts)}]");
}
