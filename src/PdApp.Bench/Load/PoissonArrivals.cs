namespace PdApp.Bench.Load;

/// <summary>
/// Inter-arrival times of a Poisson process: exponential with mean <c>1 / rate</c>, as vLLM's
/// benchmark_serving.py draws them (its gamma distribution with burstiness 1). An infinite rate
/// sends everything at once.
/// </summary>
internal sealed class PoissonArrivals
{
    private readonly Random _random;

    /// <summary>Creates the process.</summary>
    /// <param name="requestsPerSecond">Mean arrival rate; <see cref="double.PositiveInfinity"/> for no pacing.</param>
    /// <param name="seed">Seed, so a run's schedule can be repeated.</param>
    public PoissonArrivals(double requestsPerSecond, int seed)
    {
        if (double.IsNaN(requestsPerSecond) || requestsPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(requestsPerSecond), requestsPerSecond, "The request rate must be positive.");
        }

        RequestsPerSecond = requestsPerSecond;
        _random = new Random(seed);
    }

    /// <summary>The mean rate.</summary>
    public double RequestsPerSecond { get; }

    /// <summary>Whether requests are sent without pacing.</summary>
    public bool IsUnlimited => double.IsPositiveInfinity(RequestsPerSecond);

    /// <summary>The gap before the next arrival.</summary>
    public TimeSpan NextInterval()
    {
        if (IsUnlimited)
        {
            return TimeSpan.Zero;
        }

        // 1 - U lies in (0, 1], so the logarithm is finite.
        var seconds = -Math.Log(1.0 - _random.NextDouble()) / RequestsPerSecond;
        return TimeSpan.FromSeconds(seconds);
    }
}
