using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Proxy.Observability.Requests;

/// <summary>
/// The proxy's observability behind <see cref="IProxyObserver"/>: spans from
/// <see cref="ProxyTracing"/>, every request-path metric into <see cref="ProxyMeter"/>, and a Debug
/// log line with each request's timing. Each request gets its own <see cref="RequestObserver"/>.
/// </summary>
public sealed partial class ProxyObserver(
    ProxyTracing tracing,
    ProxyMeter meter,
    DisaggregationFlow flow,
    ILogger<ProxyObserver> logger) : IProxyObserver
{
    internal ProxyTracing Tracing => tracing;

    internal ProxyMeter Meter => meter;

    /// <inheritdoc />
    public IRequestObserver StartRequest(HttpContext context, OpenAiRoute route, string requestId)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RequestObserver(this, context, OpenAiRoutes.PathOf(route), flow.Connector, requestId);
    }

    internal void LogTiming(RequestObserver request, int status, string mode)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            LogRequestTiming(
                request.RequestId,
                status,
                mode,
                request.Model,
                request.EstimatedPromptTokens,
                request.AdmissionMilliseconds,
                request.PrefillMilliseconds,
                request.DecodeFirstByteMilliseconds,
                request.TimeToFirstTokenMilliseconds,
                request.Chunks);
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Debug,
        Message = "Request {RequestId} timing: status {Status}, mode {Mode}, model {Model}, ~{EstimatedPromptTokens} prompt tokens; admission {AdmissionMs:0.0} ms, prefill {PrefillMs:0.0} ms, decode first byte {DecodeFirstByteMs:0.0} ms, first token {TimeToFirstTokenMs:0.0} ms, {Chunks} chunks")]
    private partial void LogRequestTiming(
        string requestId, int status, string mode, string? model, int? estimatedPromptTokens,
        double? admissionMs, double? prefillMs, double? decodeFirstByteMs, double? timeToFirstTokenMs, int chunks);
}
