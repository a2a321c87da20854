using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdApp.Proxy.Diagnostics;

/// <summary>
/// The proxy's meter, <c>pdapp.proxy</c>: what only the proxy can see about PD serving (whether
/// KV transfers happened, retries, fallbacks, admission). Exported through OpenTelemetry.
/// </summary>
public sealed class ProxyMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "pdapp.proxy";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _prefillDuration;
    private readonly Counter<long> _transfersExpected;
    private readonly Counter<long> _transfersConfirmed;
    private readonly Counter<long> _transfersMissed;
    private readonly Counter<long> _cancelledAfterPrefill;
    private readonly Counter<long> _prefillRetries;
    private readonly Counter<long> _prefillSkipped;
    private readonly Counter<long> _decodeOnlyFallbacks;
    private readonly Counter<long> _decodeRetries;
    private readonly Counter<long> _admissionRejected;

    /// <summary>Creates the instruments.</summary>
    /// <param name="meterFactory">The host's meter factory.</param>
    public ProxyMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _requests = Meter.CreateCounter<long>("pdapp.proxy.requests", "{request}", "Completed client requests by route, status and connector.");
        _duration = Meter.CreateHistogram<double>("pdapp.proxy.request.duration", "s", "Client request duration (until the last byte was relayed).");
        _prefillDuration = Meter.CreateHistogram<double>("pdapp.proxy.prefill.duration", "s", "Prefill calls: from sending to P until its whole response was read (a floor for the user's time to first token).");
        _transfersExpected = Meter.CreateCounter<long>("pdapp.proxy.kv_transfers.expected", "{transfer}", "Decode requests sent after a successful prefill, which should find the KV.");
        _transfersConfirmed = Meter.CreateCounter<long>("pdapp.proxy.kv_transfers.confirmed", "{transfer}", "Transfers confirmed by D (simulator header) or by P's kv_transfer_params (Nixl).");
        _transfersMissed = Meter.CreateCounter<long>("pdapp.proxy.kv_transfers.missed", "{transfer}", "Transfers D reported it did not find (it prefilled locally).");
        _cancelledAfterPrefill = Meter.CreateCounter<long>("pdapp.proxy.cancelled_after_prefill", "{request}", "Clients gone after prefill finished and before decode answered: KV possibly left pinned on P.");
        _prefillRetries = Meter.CreateCounter<long>("pdapp.proxy.prefill.retries", "{request}", "Prefills retried on another instance after a failure or timeout.");
        _prefillSkipped = Meter.CreateCounter<long>("pdapp.proxy.prefill.skipped", "{request}", "Requests sent straight to decode because the prompt was under the threshold.");
        _decodeOnlyFallbacks = Meter.CreateCounter<long>("pdapp.proxy.decode_only_fallbacks", "{request}", "Requests served by decode alone because prefill was unavailable or failed.");
        _decodeRetries = Meter.CreateCounter<long>("pdapp.proxy.decode.retries", "{request}", "Decodes moved to another instance after a connect failure.");
        _admissionRejected = Meter.CreateCounter<long>("pdapp.proxy.admission.rejected", "{request}", "Requests refused with 429 by admission control, by reason.");
    }

    /// <summary>The meter (tests listen to this instance).</summary>
    public Meter Meter { get; }

    /// <summary>A client request completed.</summary>
    /// <param name="route">The route path.</param>
    /// <param name="statusCode">The status sent.</param>
    /// <param name="connector">The connector.</param>
    /// <param name="seconds">Its duration.</param>
    public void RequestCompleted(string route, int statusCode, string connector, double seconds)
    {
        var tags = new TagList { { "route", route }, { "status", statusCode }, { "connector", connector } };
        _requests.Add(1, tags);
        _duration.Record(seconds, tags);
    }

    /// <summary>A prefill call ended.</summary>
    /// <param name="connector">The connector.</param>
    /// <param name="outcome">How it ended (succeeded, rejected, upstream_error, timed_out, transport_error, canceled).</param>
    /// <param name="seconds">How long it took.</param>
    public void PrefillCompleted(string connector, string outcome, double seconds) =>
        _prefillDuration.Record(seconds, new KeyValuePair<string, object?>("connector", connector), new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>A decode was sent after a successful prefill.</summary>
    /// <param name="connector">The connector.</param>
    public void KvTransferExpected(string connector) => _transfersExpected.Add(1, new KeyValuePair<string, object?>("connector", connector));

    /// <summary>The transfer was confirmed.</summary>
    /// <param name="connector">The connector.</param>
    public void KvTransferConfirmed(string connector) => _transfersConfirmed.Add(1, new KeyValuePair<string, object?>("connector", connector));

    /// <summary>D reported that the KV was not found.</summary>
    /// <param name="connector">The connector.</param>
    public void KvTransferMissed(string connector) => _transfersMissed.Add(1, new KeyValuePair<string, object?>("connector", connector));

    /// <summary>The client left between prefill and decode.</summary>
    /// <param name="connector">The connector.</param>
    public void CancelledAfterPrefill(string connector) => _cancelledAfterPrefill.Add(1, new KeyValuePair<string, object?>("connector", connector));

    /// <summary>A prefill was retried on another instance.</summary>
    /// <param name="reason">Why (timeout, upstream_error, transport_error).</param>
    public void PrefillRetried(string reason) => _prefillRetries.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Prefill was skipped for a short prompt.</summary>
    public void PrefillSkipped() => _prefillSkipped.Add(1);

    /// <summary>A request fell back to decode only.</summary>
    /// <param name="reason"><c>no_prefill_instance</c> or <c>prefill_failed</c>.</param>
    public void DecodeOnlyFallback(string reason) => _decodeOnlyFallbacks.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>A decode was moved to another instance after a connect failure.</summary>
    public void DecodeRetried() => _decodeRetries.Add(1);

    /// <summary>Admission control refused a request.</summary>
    /// <param name="reason"><c>rate_limited</c>, <c>queue_full</c> or <c>queue_timeout</c>.</param>
    public void AdmissionRejected(string reason) => _admissionRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
