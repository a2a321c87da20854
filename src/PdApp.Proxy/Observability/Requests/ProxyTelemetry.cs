using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Observability.Tracing;

namespace PdApp.Proxy.Observability.Requests;

/// <summary>
/// The proxy's request telemetry: spans from <see cref="ProxyTracing"/>, timings into
/// <see cref="StreamTimingMetrics"/> and <see cref="UpstreamTimingMetrics"/>, and a Debug log line
/// with each request's timing. <see cref="Begin"/> attaches a <see cref="RequestTelemetry"/> to the
/// request; the request path reaches it through <see cref="RequestTelemetry.Of"/>.
/// </summary>
public sealed partial class ProxyTelemetry(
    ProxyTracing tracing,
    StreamTimingMetrics streamMetrics,
    UpstreamTimingMetrics upstreamMetrics,
    ILogger<ProxyTelemetry> logger)
{
    internal ProxyTracing Tracing => tracing;

    internal StreamTimingMetrics StreamMetrics => streamMetrics;

    internal UpstreamTimingMetrics UpstreamMetrics => upstreamMetrics;

    /// <summary>Starts the telemetry of one client request and attaches it to <paramref name="context"/>.</summary>
    /// <param name="context">The client's request.</param>
    /// <param name="route">The route path (metric tag).</param>
    /// <param name="connector">The connector (metric tag).</param>
    /// <param name="requestId">The client-facing request id.</param>
    /// <returns>The request's telemetry.</returns>
    public RequestTelemetry Begin(HttpContext context, string route, string connector, string requestId)
    {
        ArgumentNullException.ThrowIfNull(context);
        var telemetry = new RequestTelemetry(this, context, route, connector, requestId);
        context.Features.Set(telemetry);
        return telemetry;
    }

    internal void LogTiming(RequestTelemetry request, int status, string mode)
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
