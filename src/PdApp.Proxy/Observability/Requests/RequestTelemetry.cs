using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Features;
using PdApp.Protocol;
using PdApp.Proxy.Disaggregation;
using PdApp.Proxy.Forwarding;
using PdApp.Proxy.Observability.Streaming;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Observability.Requests;

/// <summary>
/// The telemetry of one client request, kept as a request feature: starts the admission, prefill
/// and decode spans under the request's server span, watches the relayed stream's chunks, and at
/// the end records the client-side stream metrics and tags the server span with the outcome.
/// Calls arrive in order on the request's own flow (one relay at a time), so it needs no locks.
/// </summary>
public sealed class RequestTelemetry
{
    private readonly ProxyTelemetry _owner;
    private readonly HttpContext _context;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly SseChunkScanner _scanner = new();
    private readonly Action<SseDataKind> _onData;
    private DecodeSpan? _currentDecode;
    private long _firstChunk;
    private long _lastChunk;

    internal RequestTelemetry(ProxyTelemetry owner, HttpContext context, string route, string connector, string requestId)
    {
        _owner = owner;
        _context = context;
        Route = route;
        Connector = connector;
        RequestId = requestId;
        OperationName = route == OpenAiRoutes.ChatCompletionsPath ? "chat" : "text_completion";
        _onData = OnData;
    }

    /// <summary>The route path.</summary>
    public string Route { get; }

    /// <summary>The connector.</summary>
    public string Connector { get; }

    /// <summary>The client-facing request id.</summary>
    public string RequestId { get; }

    /// <summary>The GenAI operation: <c>chat</c> or <c>text_completion</c>.</summary>
    public string OperationName { get; }

    /// <summary>The model the client named, once the request was parsed.</summary>
    public string? Model { get; private set; }

    /// <summary>The proxy's estimate of the prompt's tokens, once parsed.</summary>
    public int? EstimatedPromptTokens { get; private set; }

    /// <summary>Prompt tokens as P counted them (its <c>usage.prompt_tokens</c>), when known.</summary>
    public int? PromptTokens { get; internal set; }

    /// <summary>Streamed chunks relayed so far.</summary>
    public int Chunks { get; private set; }

    /// <summary>Time waiting for admission.</summary>
    public double? AdmissionMilliseconds { get; internal set; }

    /// <summary>The last prefill call's duration.</summary>
    public double? PrefillMilliseconds { get; internal set; }

    /// <summary>D's time to response headers (last decode attempt).</summary>
    public double? DecodeFirstByteMilliseconds { get; internal set; }

    /// <summary>Time from the request's arrival to the first relayed chunk.</summary>
    public double? TimeToFirstTokenMilliseconds =>
        Chunks > 0 ? Stopwatch.GetElapsedTime(_started, _firstChunk).TotalMilliseconds : null;

    internal ProxyTelemetry Owner => _owner;

    /// <summary>The telemetry of <paramref name="context"/>, or null when observability is not registered.</summary>
    /// <param name="context">The client's request.</param>
    /// <returns>The telemetry, or null.</returns>
    public static RequestTelemetry? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<RequestTelemetry>();
    }

    /// <summary>The request was parsed: remembers the model and prompt size for spans and logs.</summary>
    /// <param name="request">The validated request.</param>
    public void OnRequest(CompletionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Model = request.Model;
        EstimatedPromptTokens = request.EstimatedPromptTokens;
        var server = ServerActivity;
        server?.SetTag(PdSpanAttributes.GenAiRequestModel, request.Model);
        server?.SetTag(PdSpanAttributes.Stream, request.Stream);
        server?.SetTag(PdSpanAttributes.EstimatedPromptTokens, request.EstimatedPromptTokens);
    }

    /// <summary>Starts the admission span (dispose it, or call <see cref="AdmissionSpan.Stop"/>, when admission answered).</summary>
    /// <returns>The span.</returns>
    public AdmissionSpan StartAdmission() => new(this);

    /// <summary>Starts a prefill span around one prefill call.</summary>
    /// <param name="instance">The prefill instance.</param>
    /// <param name="upstreamRequestId">The request id P sees.</param>
    /// <returns>The span; call <see cref="PrefillSpan.Complete"/> with the attempt.</returns>
    public PrefillSpan StartPrefill(UpstreamInstance instance, string upstreamRequestId)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return new PrefillSpan(this, instance, upstreamRequestId);
    }

    /// <summary>Starts a decode span around one decode relay.</summary>
    /// <param name="call">The decode call.</param>
    /// <returns>The span; call <see cref="DecodeSpan.Stop"/> when the relay returned.</returns>
    public DecodeSpan StartDecode(DecodeCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        _currentDecode = new DecodeSpan(this, call, Chunks);
        return _currentDecode;
    }

    /// <summary>
    /// D's response headers arrived (called from the decode transformer): records D's time to first
    /// byte and, for an event stream, wraps its content so each chunk is timed as it is relayed.
    /// </summary>
    /// <param name="response">D's response; its content may be replaced.</param>
    public void OnDecodeResponse(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        _currentDecode?.OnResponse((int)response.StatusCode);

        // The client's response already carries D's headers (an SSE guard may have replaced the
        // content, and its headers, on the upstream response).
        if (response.IsSuccessStatusCode
            && MediaTypeHeaderValue.TryParse(_context.Response.ContentType, out var mediaType)
            && mediaType.MediaType == SseFormat.ContentType)
        {
            response.Content = new WrappedStreamContent(response.Content, stream => new SseTimingStream(stream, bytes => _scanner.Scan(bytes.Span, _onData)));
        }
    }

    /// <summary>The request ended: records stream timings, tags the server span, logs timing at Debug.</summary>
    /// <param name="statusCode">The status the client got (499 when it left first).</param>
    /// <param name="exchange">How it was served.</param>
    public void Complete(int statusCode, PdExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var mode = exchange.ModeName;
        if (Chunks > 0)
        {
            var ttft = Stopwatch.GetElapsedTime(_started, _firstChunk).TotalSeconds;
            double? tpot = Chunks > 1 ? Stopwatch.GetElapsedTime(_firstChunk, _lastChunk).TotalSeconds / (Chunks - 1) : null;
            _owner.StreamMetrics.StreamCompleted(Route, Connector, mode, ttft, tpot);
        }

        if (ServerActivity is { } server)
        {
            server.SetTag(PdSpanAttributes.GenAiOperationName, OperationName);
            server.SetTag(PdSpanAttributes.GenAiSystem, ProxyTracing.GenAiSystemValue);
            server.SetTag(PdSpanAttributes.GenAiProviderName, ProxyTracing.GenAiSystemValue);
            server.SetTag(PdSpanAttributes.RequestId, RequestId);
            server.SetTag(PdSpanAttributes.Connector, Connector);
            server.SetTag(PdSpanAttributes.Mode, mode);
            server.SetTag(PdSpanAttributes.PrefillInstance, exchange.PrefillInstance);
            server.SetTag(PdSpanAttributes.DecodeInstance, exchange.DecodeInstance);
            server.SetTag(PdSpanAttributes.KvTransfer, exchange.KvTransfer);
            server.SetTag(PdSpanAttributes.Outcome, statusCode is >= 200 and < 300 ? "ok" : statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            server.SetTag(PdSpanAttributes.GenAiUsageInputTokens, PromptTokens);
            if (Chunks > 0)
            {
                server.SetTag(PdSpanAttributes.GenAiUsageOutputTokens, Chunks);
                server.SetTag(PdSpanAttributes.TimeToFirstToken, TimeToFirstTokenMilliseconds / 1000);
            }
        }

        _owner.LogTiming(this, statusCode, mode);
    }

    internal Activity? ServerActivity => _context.Features.Get<IHttpActivityFeature>()?.Activity;

    internal void TagCommon(Activity activity, UpstreamInstance instance, string role, string upstreamRequestId)
    {
        activity.SetTag(PdSpanAttributes.GenAiOperationName, OperationName);
        activity.SetTag(PdSpanAttributes.GenAiSystem, ProxyTracing.GenAiSystemValue);
        activity.SetTag(PdSpanAttributes.GenAiProviderName, ProxyTracing.GenAiSystemValue);
        activity.SetTag(PdSpanAttributes.GenAiRequestModel, Model);
        activity.SetTag(PdSpanAttributes.RequestId, RequestId);
        activity.SetTag(PdSpanAttributes.UpstreamRequestId, upstreamRequestId);
        activity.SetTag(PdSpanAttributes.Instance, instance.Name);
        activity.SetTag(PdSpanAttributes.Role, role);
        activity.SetTag(PdSpanAttributes.Connector, Connector);
        activity.SetTag(PdSpanAttributes.ServerAddress, instance.BaseAddress.Host);
        activity.SetTag(PdSpanAttributes.ServerPort, instance.BaseAddress.Port);
    }

    private void OnData(SseDataKind kind)
    {
        if (kind != SseDataKind.Chunk)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        double? gap = null;
        if (Chunks == 0)
        {
            _firstChunk = now;
        }
        else
        {
            gap = Stopwatch.GetElapsedTime(_lastChunk, now).TotalSeconds;
        }

        _lastChunk = now;
        Chunks++;
        _owner.StreamMetrics.ChunkRelayed(Route, Connector, gap);
    }
}
