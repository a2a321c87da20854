namespace PdApp.Bench.Load;

/// <summary>How one run sends its requests.</summary>
/// <param name="RequestRate">Arrivals per second per target (Poisson); infinity for all at once.</param>
/// <param name="MaxConcurrency">Most requests in flight per target, or null for no limit.</param>
/// <param name="NumPrompts">Requests per target, or null when <paramref name="Duration"/> bounds the run.</param>
/// <param name="Duration">How long to keep issuing requests, or null when <paramref name="NumPrompts"/> bounds the run.</param>
/// <param name="Warmup">Unmeasured requests per target before the run.</param>
/// <param name="Seed">Seed of the arrival process.</param>
/// <param name="Burstiness">Gamma shape of the inter-arrival times (1 = Poisson).</param>
internal sealed record LoadPlan(
    double RequestRate,
    int? MaxConcurrency,
    long? NumPrompts,
    TimeSpan? Duration,
    int Warmup,
    int Seed,
    double Burstiness = 1.0);
