namespace PdApp.Proxy.Pipeline.Flows;

/// <summary>A successful (2xx) prefill response, read whole; the client never sees it.</summary>
/// <param name="StatusCode">P's status.</param>
/// <param name="Body">P's JSON body.</param>
public sealed record PrefillResponse(int StatusCode, ReadOnlyMemory<byte> Body);

/// <summary>The body to send to D and what P's response said about the transfer.</summary>
/// <param name="Body">The decode body.</param>
/// <param name="PrefillConfirmedTransfer">
/// True when P's response proves it handed KV to the connector (Nixl's <c>kv_transfer_params</c>);
/// null when the connector's prefill response says nothing either way.
/// </param>
public readonly record struct DecodeBody(ReadOnlyMemory<byte> Body, bool? PrefillConfirmedTransfer);
