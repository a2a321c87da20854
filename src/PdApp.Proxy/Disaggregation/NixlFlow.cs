using System.Net;
using System.Text.Json;
using PdApp.Protocol.Connectors;
using PdApp.Proxy.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Disaggregation;

/// <summary>
/// NixlConnector (and MultiConnector with a Nixl child): the <c>kv_transfer_params</c> exchange of
/// vLLM's NIXL proxy (tests/v1/kv_connector/nixl_integration/toy_proxy_server.py). P is asked to
/// keep the KV for a remote decode; its response's <c>kv_transfer_params</c> (engine id, block ids,
/// side-channel host/port) are copied as-is into D's body so D pulls the blocks from P.
/// </summary>
/// <remarks>The prefill body's fields come from the catalog (<see cref="KvConnectorTraits.PrefillBodyFields"/>).</remarks>
public sealed class NixlFlow(ResolvedConnector connector) : DisaggregationFlow(connector)
{
    private const string KvTransferParams = KvRequestFields.KvTransferParams;
    private const string RemoteHost = KvRequestFields.RemoteHost;

    /// <inheritdoc />
    public override DecodeBody CreateDecodeBody(
        CompletionRequest request, PrefillResponse prefill, UpstreamInstance prefillInstance, UpstreamInstance decodeInstance)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(prefillInstance);
        ArgumentNullException.ThrowIfNull(decodeInstance);

        byte[]? parameters = null;
        try
        {
            using var response = JsonDocument.Parse(prefill.Body);
            if (response.RootElement.ValueKind == JsonValueKind.Object
                && response.RootElement.TryGetProperty(KvTransferParams, out var element)
                && element.ValueKind == JsonValueKind.Object)
            {
                parameters = RoutableParameters(element, prefillInstance, decodeInstance);
            }
        }
        catch (JsonException)
        {
            // Not JSON: D gets no parameters and prefills locally, as when P returns none.
        }

        if (parameters is null)
        {
            // No kv_transfer_params: D simply prefills locally (vLLM's proxy does the same).
            return new DecodeBody(request.Body, PrefillConfirmedTransfer: false);
        }

        var body = new JsonBodyRewriter()
            .Set(KvTransferParams, w => w.WriteRawValue(parameters, skipInputValidation: true))
            .Apply(request.Document.RootElement);
        return new DecodeBody(body, PrefillConfirmedTransfer: true);
    }

    /// <summary>
    /// The parameters as P sent them, except a loopback <c>remote_host</c> (vLLM's default
    /// <c>VLLM_NIXL_SIDE_CHANNEL_HOST</c> is localhost) is replaced by P's address when D runs on
    /// another host, where localhost would name D itself. P's address is its configured base
    /// address; with service-discovery names (<c>http://prefill-0</c>) that name must also resolve
    /// on D's host (true for compose and Kubernetes service names), otherwise set
    /// <c>VLLM_NIXL_SIDE_CHANNEL_HOST</c> on P to a routable address so no rewrite is needed.
    /// </summary>
    private static byte[] RoutableParameters(JsonElement parameters, UpstreamInstance prefill, UpstreamInstance decode)
    {
        var rewriter = new JsonBodyRewriter();
        if (parameters.TryGetProperty(RemoteHost, out var host)
            && host.ValueKind == JsonValueKind.String
            && IsLoopback(host.GetString())
            && !SameHost(prefill.BaseAddress, decode.BaseAddress)
            && !IsLoopback(prefill.BaseAddress.IdnHost))
        {
            var routable = prefill.BaseAddress.IdnHost;
            rewriter.Replace(RemoteHost, w => w.WriteStringValue(routable));
        }

        return rewriter.Apply(parameters);
    }

    private static bool SameHost(Uri a, Uri b) =>
        string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        || (IsLoopback(a.IdnHost) && IsLoopback(b.IdnHost));

    private static bool IsLoopback(string? host) =>
        host is not null
        && (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || host == "0.0.0.0"
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));
}
