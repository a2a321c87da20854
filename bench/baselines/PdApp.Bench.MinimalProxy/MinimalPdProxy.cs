using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Bench.MinimalProxy;

/// <summary>
/// One request: read the client's body, POST the prefill body to P and read its response, then
/// relay D's response with YARP's <see cref="IHttpForwarder"/>. Both calls carry the same
/// <c>X-Request-Id</c>. Nothing else: no instance selection, retries, timeouts beyond YARP's,
/// admission, validation, metrics, traces or logs.
/// </summary>
internal sealed class MinimalPdProxy : IDisposable
{
    private const string RequestIdHeader = "X-Request-Id";
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly IHttpForwarder _forwarder;
    private readonly MinimalPdProxyOptions _options;
    private readonly HttpMessageInvoker _invoker;
    private readonly string _prefillPrefix;
    private readonly string _decodePrefix;
    private readonly ForwarderRequestConfig _decodeConfig = new()
    {
        ActivityTimeout = TimeSpan.FromSeconds(120),
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        AllowResponseBuffering = false,
    };

    /// <summary>Creates the proxy with one invoker set up for proxying, as YARP's direct forwarding sample.</summary>
    /// <param name="forwarder">YARP's forwarder.</param>
    /// <param name="options">The instances.</param>
    public MinimalPdProxy(IHttpForwarder forwarder, MinimalPdProxyOptions options)
    {
        _forwarder = forwarder;
        _options = options;
        _prefillPrefix = options.Prefill.AbsoluteUri.TrimEnd('/');
        _decodePrefix = options.Decode.AbsoluteUri.TrimEnd('/');
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        });
    }

    /// <summary>Serves one completion or chat completion request.</summary>
    /// <param name="context">The client's request.</param>
    /// <returns>A task that completes when the response is finished.</returns>
    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var cancellationToken = context.RequestAborted;
        using var received = new MemoryStream((int)(request.ContentLength ?? 4096));
        await request.Body.CopyToAsync(received, cancellationToken);
        var clientBody = received.GetBuffer().AsMemory(0, (int)received.Length);

        using var document = JsonDocument.Parse(clientBody);
        var requestId = request.Headers[RequestIdHeader].ToString();
        if (requestId.Length == 0)
        {
            requestId = Guid.NewGuid().ToString("N");
            request.Headers[RequestIdHeader] = requestId;
        }

        // Prefill: one token, not streamed; read P's whole (small) response.
        byte[] prefillResponse;
        using (var prefill = new HttpRequestMessage(HttpMethod.Post, _prefillPrefix + request.Path.Value)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = new ByteArrayContent(PrefillBodies.Prefill(document.RootElement, _options.Nixl)) { Headers = { ContentType = Json } },
        })
        {
            prefill.Headers.TryAddWithoutValidation(RequestIdHeader, requestId);
            using var response = await _invoker.SendAsync(prefill, cancellationToken);
            prefillResponse = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                context.Response.StatusCode = (int)response.StatusCode;
                context.Response.ContentType = "application/json";
                await context.Response.Body.WriteAsync(prefillResponse, cancellationToken);
                return;
            }
        }

        // Decode: the client's body (NIXL: plus P's kv_transfer_params), relayed as D sends it.
        // YARP forwards HttpContext.Request.Body, so the buffered body is put back there.
        var decodeBody = _options.Nixl ? PrefillBodies.NixlDecode(document.RootElement, prefillResponse) : null;
        request.Body = decodeBody is null
            ? new MemoryStream(received.GetBuffer(), 0, (int)received.Length, writable: false)
            : new MemoryStream(decodeBody, writable: false);
        request.ContentLength = decodeBody?.Length ?? received.Length;
        await _forwarder.SendAsync(context, _decodePrefix, _invoker, _decodeConfig, HttpTransformer.Default);
    }

    /// <inheritdoc />
    public void Dispose() => _invoker.Dispose();
}
