using System.Diagnostics;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Pipeline.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Observability.Requests;

/// <summary>
/// <c>pd.decode</c> (client kind): one decode relay through YARP, from sending the request to the
/// last byte relayed. Its <c>gen_ai.usage.output_tokens</c> is the final usage's
/// <c>completion_tokens</c> when D sent one during this relay, else the number of chunks relayed.
/// </summary>
internal sealed class DecodeSpan : IDisposable
{
    private readonly RequestObserver _request;
    private readonly DecodeCall _call;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly int _chunksBefore;
    private readonly bool _usageSeenBefore;
    private bool _stopped;
    private string? _outcome;

    internal DecodeSpan(RequestObserver request, DecodeCall call, int chunksBefore)
    {
        _request = request;
        _call = call;
        _chunksBefore = chunksBefore;
        _usageSeenBefore = request.UsageCompletionTokens is not null;
        _activity = request.Owner.Tracing.Source.StartActivity(ProxyTracing.DecodeSpan, ActivityKind.Client);
        if (_activity is not null)
        {
            request.TagCommon(_activity, call.Instance, "decode", call.UpstreamRequestId);
            if (call.PrefillInstance is not null)
            {
                _activity.SetTag(PdSpanAttributes.PrefillInstance, call.PrefillInstance.Name);
            }
        }
    }

    /// <summary>D's response headers arrived.</summary>
    /// <param name="statusCode">D's status.</param>
    public void OnResponse(int statusCode)
    {
        var elapsed = Stopwatch.GetElapsedTime(_started);
        _request.DecodeFirstByteMilliseconds = elapsed.TotalMilliseconds;
        _request.Owner.Meter.DecodeResponded(_call.Instance.Name, _request.Connector, statusCode, elapsed.TotalSeconds);
        _activity?.SetTag(PdSpanAttributes.HttpResponseStatusCode, statusCode);
        _activity?.AddEvent(new ActivityEvent("response_headers"));
    }

    /// <summary>The relay returned.</summary>
    /// <param name="error">YARP's result.</param>
    /// <param name="clientAborted">Whether the client had gone.</param>
    public void Stop(ForwarderError error, bool clientAborted)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        var outcome = _outcome = (error, clientAborted) switch
        {
            (ForwarderError.None, _) when _call.StreamError is not null => "stream_error",
            (ForwarderError.None, _) => "relayed",
            (_, true) => "canceled",
            _ when _call.Responded => "failed_during_response",
            _ => "failed",
        };
        _request.Owner.Meter.DecodeCompleted(_call.Instance.Name, _request.Connector, outcome, Stopwatch.GetElapsedTime(_started).TotalSeconds);
        if (_activity is null)
        {
            return;
        }

        _activity.SetTag(PdSpanAttributes.Outcome, outcome);
        var chunks = _request.Chunks - _chunksBefore;
        if (!_usageSeenBefore && _request.UsageCompletionTokens is { } usage)
        {
            _activity.SetTag(PdSpanAttributes.GenAiUsageOutputTokens, usage);
        }
        else if (chunks > 0)
        {
            _activity.SetTag(PdSpanAttributes.GenAiUsageOutputTokens, chunks);
        }

        _activity.SetTag(PdSpanAttributes.KvTransfer, _call.KvTransferOutcome);
        if (outcome is not ("relayed" or "canceled"))
        {
            _activity.SetTag(PdSpanAttributes.ErrorType, outcome == "failed" ? error.ToString() : outcome);
            _activity.SetStatus(ActivityStatusCode.Error, _call.StreamError ?? error.ToString());
        }
        else if (_call.StatusCode >= 500)
        {
            _activity.SetStatus(ActivityStatusCode.Error, $"decode answered {_call.StatusCode}");
        }
    }

    /// <summary>Whether the relay ended in a failure (a stream error or a failed relay), once stopped.</summary>
    public bool Failed => _outcome is not (null or "relayed" or "canceled");

    /// <summary>Adds the <c>pd.migration</c> event: what request migration decided after this decode failed.</summary>
    /// <param name="outcome">migrated, refused or failed.</param>
    /// <param name="reason">The reason.</param>
    /// <param name="tokensRelayed">Tokens the client had received.</param>
    public void AddMigrationEvent(string outcome, string reason, int tokensRelayed) =>
        _activity?.AddEvent(new ActivityEvent(ProxyTracing.MigrationEvent, tags: new ActivityTagsCollection
        {
            [PdSpanAttributes.MigrationOutcome] = outcome,
            [PdSpanAttributes.MigrationReason] = reason,
            [PdSpanAttributes.MigrationTokensRelayed] = tokensRelayed,
        }));

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_stopped)
        {
            _activity?.SetTag(PdSpanAttributes.Outcome, "exception");
            _activity?.SetStatus(ActivityStatusCode.Error);
        }

        _activity?.Dispose();
    }
}
