namespace PdApp.Bench.Measurement;

/// <summary>Receives each inter-token gap as it is measured, so gaps need not be stored per request.</summary>
internal interface IInterTokenObserver
{
    /// <summary>Records the gap between two output chunks.</summary>
    /// <param name="microseconds">The gap in microseconds.</param>
    void OnInterTokenLatency(long microseconds);
}
