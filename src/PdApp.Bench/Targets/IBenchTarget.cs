using PdApp.Bench.Measurement;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Targets;

/// <summary>Something the bench sends requests to: one server, or a prefill/decode pair driven by the client.</summary>
internal interface IBenchTarget
{
    /// <summary>Display name in reports.</summary>
    string Name { get; }

    /// <summary>Sends one request and measures it; failures come back as outcomes, not exceptions.</summary>
    /// <param name="request">The prompt.</param>
    /// <param name="observer">Receives inter-token gaps (null during warm-up).</param>
    /// <param name="cancellationToken">Cancels the run; an <see cref="OperationCanceledException"/> escapes only for it.</param>
    /// <returns>The measurements.</returns>
    Task<RequestOutcome> SendAsync(BenchRequest request, IInterTokenObserver? observer, CancellationToken cancellationToken);
}
