using PdApp.Bench.Load;

namespace PdApp.Bench.Reporting;

/// <summary>Shows a run's progress while it is in flight.</summary>
internal interface IProgressDisplay
{
    /// <summary>Displays <paramref name="progress"/> until <paramref name="run"/> completes, then returns its result.</summary>
    Task<T> ShowAsync<T>(RunProgress progress, Func<Task<T>> run);
}
