namespace PdApp.Proxy.Pipeline.Admission;

/// <summary>Why admission refused a request.</summary>
public enum AdmissionRejection
{
    /// <summary>Admitted.</summary>
    None,

    /// <summary>Over <c>Pd:Proxy:Admission:RequestsPerSecond</c>.</summary>
    RateLimited,

    /// <summary>All slots busy and the queue at <c>Pd:Proxy:Admission:MaxQueueLength</c>.</summary>
    QueueFull,

    /// <summary>Waited <c>Pd:Proxy:Admission:QueueTimeoutSeconds</c> without getting a slot.</summary>
    QueueTimeout,
}

/// <summary>The outcome of admission: a slot to hold for the request's life, or a rejection.</summary>
public sealed class AdmissionResult : IDisposable
{
    private readonly IDisposable? _slot;

    private AdmissionResult(IDisposable? slot, AdmissionRejection rejection, TimeSpan retryAfter)
    {
        _slot = slot;
        Rejection = rejection;
        RetryAfter = retryAfter;
    }

    /// <summary>Why it was refused, or <see cref="AdmissionRejection.None"/>.</summary>
    public AdmissionRejection Rejection { get; }

    /// <summary>Whether the request may proceed.</summary>
    public bool IsAdmitted => Rejection == AdmissionRejection.None;

    /// <summary>The <c>Retry-After</c> to send when refused.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>An admission holding <paramref name="slot"/>.</summary>
    /// <param name="slot">The concurrency slot.</param>
    /// <returns>The result.</returns>
    public static AdmissionResult Admitted(IDisposable slot) => new(slot, AdmissionRejection.None, TimeSpan.Zero);

    /// <summary>A rejection.</summary>
    /// <param name="rejection">Why.</param>
    /// <param name="retryAfter">When to retry.</param>
    /// <returns>The result.</returns>
    public static AdmissionResult Rejected(AdmissionRejection rejection, TimeSpan retryAfter) => new(null, rejection, retryAfter);

    /// <summary>The metric/log name of <see cref="Rejection"/>.</summary>
    public string Reason => Rejection switch
    {
        AdmissionRejection.RateLimited => "rate_limited",
        AdmissionRejection.QueueFull => "queue_full",
        AdmissionRejection.QueueTimeout => "queue_timeout",
        _ => "admitted",
    };

    /// <inheritdoc />
    public void Dispose() => _slot?.Dispose();
}
