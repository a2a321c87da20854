namespace PdApp.Bench.Workloads;

/// <summary>
/// The prompts of a run, handed out in order and cycled when a <c>--duration</c> run needs more
/// requests than the dataset holds.
/// </summary>
internal sealed class Workload
{
    private readonly IReadOnlyList<BenchRequest> _requests;

    /// <summary>Creates a workload over <paramref name="requests"/> (at least one).</summary>
    public Workload(IReadOnlyList<BenchRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentOutOfRangeException.ThrowIfZero(requests.Count);
        _requests = requests;
    }

    /// <summary>Distinct prompts.</summary>
    public int Count => _requests.Count;

    /// <summary>The prompt for the <paramref name="index"/>-th request.</summary>
    public BenchRequest this[long index] => _requests[(int)(index % _requests.Count)];
}
