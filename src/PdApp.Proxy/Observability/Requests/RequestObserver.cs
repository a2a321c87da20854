using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using PdApp.Protocol;
using PdApp.Proxy.Observability.Streaming;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Admission;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Observability.Requests;

/// <summary>
/// The observer of one client request: turns each pipeline event into the admission, prefill and
/// decode spans under the request's server span and the <see cref="Metrics.ProxyMeter"/> records,
/// watches the relayed stream's chunks, and at the end records the client-side stream metrics and
/// tags the server span with the outcome. Calls arrive in order on the request's own flow (one
/// relay at a time), so it needs no locks.
/// </summary>
public sealed class RequestObserver : IRequestObserver
{
    private readonly ProxyObserver _owner;
    private readonly HttpContext _context;
    private readonly long _started = Stopwatch.GetTimestamp();
    private Action<SseDataKind>? _onData;
    private SseChunkScanner? _scanner;
    private AdmissionSpan? _admission;
    private PrefillSpan? _prefill;
    private long _prefillStarted;
    private DecodeSpan? _decode;
    private DecodeSpan? _failedDecode;
    private long _firstChunk;
    private long _lastChunk;
    private long _longestGap;
    private int _chunksRecorded;
    private bool _scanning;

    internal RequestObserver(ProxyObserver owner, HttpContext context, string route, string connector, string requestId)
    {
        _owner = owner;
        _context = context;
        Route = route;
        Connector = connector;
        RequestId = requestId;
        OperationName = route == OpenAiRoutes.ChatCompletionsPath ? "chat" : "text_completion";
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

    /// <summary>Streamed chunks relayed so far (the final usage chunk, which carries no token, not counted).</summary>
    public int Chunks { get; private set; }

    /// <summary>The stream's final <c>usage.completion_tokens</c>, when the client asked for usage.</summary>
    public int? UsageCompletionTokens { get; private set; }

    /// <summary>Output tokens streamed: the final usage's <c>completion_tokens</c> when present, else the chunks relayed.</summary>
    public int OutputTokens => UsageCompletionTokens ?? Chunks;

    /// <summary>Time waiting for admission.</summary>
    public double? AdmissionMilliseconds { get; internal set; }

    /// <summary>The last prefill call's duration.</summary>
    public double? PrefillMilliseconds { get; internal set; }

    /// <summary>D's time to response headers (last decode attempt).</summary>
    public double? DecodeFirstByteMilliseconds { get; internal set; }

    /// <summary>Time from the request's arrival to the first relayed chunk.</summary>
    public double? TimeToFirstTokenMilliseconds =>
        Chunks > 0 ? Stopwatch.GetElapsedTime(_started, _firstChunk).TotalMilliseconds : null;

    internal ProxyObserver Owner => _owner;

    /// <inheritdoc />
    public void RequestParsed(CompletionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Model = request.Model;
        EstimatedPromptTokens = request.EstimatedPromptTokens;
        var server = ServerActivity;
        server?.SetTag(PdSpanAttributes.GenAiRequestModel, request.Model);
        server?.SetTag(PdSpanAttributes.Stream, request.Stream);
        server?.SetTag(PdSpanAttributes.EstimatedPromptTokens, request.EstimatedPromptTokens);
    }

    /// <inheritdoc />
    public void AdmissionStarted() => _admission = new AdmissionSpan(this);

    /// <inheritdoc />
    public void AdmissionEnded(AdmissionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        _admission?.Stop(result);
        _admission = null;
    }

    /// <inheritdoc />
    public void PrefillSkipped() => _owner.Meter.PrefillSkipped();

    /// <inheritdoc />
    public void PrefillStarted(UpstreamInstance instance, string upstreamRequestId)
    {
        ArgumentNullException.ThrowIfNull(instance);
        _prefill?.Dispose();
        _prefillStarted = Stopwatch.GetTimestamp();
        _prefill = new PrefillSpan(this, instance, upstreamRequestId);
    }

    /// <inheritdoc />
    public void PrefillEnded(PrefillAttempt attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        _owner.Meter.PrefillCompleted(Connector, PrefillSpan.OutcomeOf(attempt.Kind), Stopwatch.GetElapsedTime(_prefillStarted).TotalSeconds);
        _prefill?.Complete(attempt);
        _prefill?.Dispose();
        _prefill = null;
    }

    /// <inheritdoc />
    public void PrefillRetried(PrefillAttemptKind previous) => _owner.Meter.PrefillRetried(previous switch
    {
        PrefillAttemptKind.TimedOut => "timeout",
        PrefillAttemptKind.UpstreamError => "upstream_error",
        _ => "transport_error",
    });

    /// <inheritdoc />
    public void DecodeOnlyFallback(string reason) => _owner.Meter.DecodeOnlyFallback(reason);

    /// <inheritdoc />
    public void KvTransferExpected() => _owner.Meter.KvTransferExpected(Connector);

    /// <inheritdoc />
    public void DecodeStarted(DecodeCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        _decode?.Dispose();
        _failedDecode?.Dispose();
        _failedDecode = null;
        _decode = new DecodeSpan(this, call, Chunks);
    }

    /// <inheritdoc />
    public void DecodeEnded(ForwarderError error, bool clientAborted)
    {
        _decode?.Stop(error, clientAborted);

        // A failed decode stays open for the migration decision's event (DecodeMigration).
        if (_decode is { Failed: true } && !clientAborted)
        {
            _failedDecode = _decode;
        }
        else
        {
            _decode?.Dispose();
        }

        _decode = null;
    }

    /// <inheritdoc />
    public void DecodeRetried() => _owner.Meter.DecodeRetried();

    /// <inheritdoc />
    public void DecodeMigration(string outcome, string reason, int tokensRelayed)
    {
        _owner.Meter.Migration(outcome, reason);
        _failedDecode?.AddMigrationEvent(outcome, reason, tokensRelayed);
        _failedDecode?.Dispose();
        _failedDecode = null;
    }

    /// <inheritdoc />
    public void KvTransferObserved(bool found)
    {
        if (found)
        {
            _owner.Meter.KvTransferConfirmed(Connector);
        }
        else
        {
            _owner.Meter.KvTransferMissed(Connector);
        }
    }

    /// <inheritdoc />
    public void CancelledAfterPrefill() => _owner.Meter.CancelledAfterPrefill(Connector);

    /// <summary>
    /// D's response headers arrived (called by the relay before it wraps D's body): records D's time
    /// to first byte and whether the body is an event stream whose chunks are to be timed.
    /// </summary>
    /// <param name="response">D's response, its content still D's own.</param>
    public void DecodeResponded(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        _decode?.OnResponse((int)response.StatusCode);

        // Told before the relay replaces the content: its headers are D's, already parsed.
        _scanning = response.IsSuccessStatusCode
            && response.Content.Headers.ContentType?.MediaType == SseFormat.ContentType;
    }

    /// <summary>
    /// Bytes of D's body on their way to the client (called by the relay's body guard, once per
    /// read): on an event stream, each chunk is timed as it passes.
    /// </summary>
    /// <param name="bytes">The bytes just read.</param>
    public void DecodeBytesRelayed(ReadOnlySpan<byte> bytes)
    {
        if (_scanning)
        {
            // Made on first use: a stream relayed by the event relay is never scanned.
            (_scanner ??= new SseChunkScanner()).Scan(bytes, _onData ??= OnData);
        }
    }

    /// <summary>
    /// One event of D's stream, classified by the decode event relay (which frames and reads every
    /// event anyway): timed and counted like a scanned one, without a second pass over its bytes.
    /// </summary>
    /// <param name="kind">What the event carried.</param>
    /// <param name="completionTokens">A final usage chunk's <c>completion_tokens</c>.</param>
    public void DecodeEventRelayed(SseDataKind kind, int? completionTokens)
    {
        if (!_scanning)
        {
            return;
        }

        if (kind == SseDataKind.Usage)
        {
            UsageCompletionTokens = completionTokens;
            return;
        }

        if (kind == SseDataKind.Chunk)
        {
            OnChunk();
        }
    }

    /// <inheritdoc />
    public void RequestCompleted(int statusCode, PdExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);

        // Spans still open mean the pipeline threw between their start and end.
        _admission?.Dispose();
        _prefill?.Dispose();
        _decode?.Dispose();
        _failedDecode?.Dispose();
        var mode = exchange.ModeName;
        _owner.Meter.RequestCompleted(Route, statusCode, Connector, Stopwatch.GetElapsedTime(_started).TotalSeconds);
        if (Chunks > 0)
        {
            // Counted once per stream, not per chunk: one measurement instead of one per token.
            _owner.Meter.ChunksRelayed(Route, Connector, Chunks - _chunksRecorded);
            _chunksRecorded = Chunks;
            var ttft = Stopwatch.GetElapsedTime(_started, _firstChunk).TotalSeconds;
            double? tpot = Chunks > 1 ? Stopwatch.GetElapsedTime(_firstChunk, _lastChunk).TotalSeconds / (Chunks - 1) : null;
            if (Chunks > 1)
            {
                _owner.Meter.LongestChunkGap(Route, Connector, Stopwatch.GetElapsedTime(0, _longestGap).TotalSeconds);
            }

            _owner.Meter.StreamCompleted(Route, Connector, mode, ttft, tpot);
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
                server.SetTag(PdSpanAttributes.GenAiUsageOutputTokens, OutputTokens);
                server.SetTag(PdSpanAttributes.TimeToFirstToken, TimeToFirstTokenMilliseconds / 1000);
            }
        }

        _owner.LogTiming(this, statusCode, mode);
    }

    /// <summary>
    /// The request's server span when a listener records it. Without one ASP.NET Core still keeps a
    /// bare activity for the trace context (and its propagation upstream); tagging it would only allocate.
    /// </summary>
    internal Activity? ServerActivity =>
        _context.Features.Get<IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true } activity && activity.Source.HasListeners()
            ? activity
            : null;

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
        if (kind == SseDataKind.Usage)
        {
            UsageCompletionTokens = _scanner!.CompletionTokens;
            return;
        }

        if (kind == SseDataKind.Chunk)
        {
            OnChunk();
        }
    }

    private void OnChunk()
    {
        // Per chunk only timestamps: the gap histogram gets one value per stream (its longest gap).
        var now = Stopwatch.GetTimestamp();
        if (Chunks == 0)
        {
            _firstChunk = now;
        }
        else if (now - _lastChunk > _longestGap)
        {
            _longestGap = now - _lastChunk;
        }

        _lastChunk = now;
        Chunks++;
    }
}
