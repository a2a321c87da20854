namespace PdApp.Bench.Load;

/// <summary>
/// Inter-arrival times of the load, as vLLM's benchmark_serving.py draws them: gamma-distributed
/// with shape <c>burstiness</c> and scale <c>1 / (rate × burstiness)</c>, so the mean rate is
/// <c>rate</c> whatever the burstiness. Burstiness 1 is a Poisson process (exponential gaps);
/// below 1 arrivals bunch up, above 1 they become more regular. An infinite rate sends
/// everything at once.
/// </summary>
internal sealed class ArrivalProcess
{
    private readonly Random _random;

    /// <summary>Creates the process.</summary>
    /// <param name="requestsPerSecond">Mean arrival rate; <see cref="double.PositiveInfinity"/> for no pacing.</param>
    /// <param name="seed">Seed, so a run's schedule can be repeated.</param>
    /// <param name="burstiness">Gamma shape; 1 (default) for Poisson arrivals.</param>
    public ArrivalProcess(double requestsPerSecond, int seed, double burstiness = 1.0)
    {
        if (double.IsNaN(requestsPerSecond) || requestsPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(requestsPerSecond), requestsPerSecond, "The request rate must be positive.");
        }

        if (!(burstiness > 0) || !double.IsFinite(burstiness))
        {
            throw new ArgumentOutOfRangeException(nameof(burstiness), burstiness, "The burstiness must be a positive number.");
        }

        RequestsPerSecond = requestsPerSecond;
        Burstiness = burstiness;
        _random = new Random(seed);
    }

    /// <summary>The mean rate.</summary>
    public double RequestsPerSecond { get; }

    /// <summary>The gamma shape of the gaps.</summary>
    public double Burstiness { get; }

    /// <summary>Whether requests are sent without pacing.</summary>
    public bool IsUnlimited => double.IsPositiveInfinity(RequestsPerSecond);

    /// <summary>The gap before the next arrival.</summary>
    public TimeSpan NextInterval()
    {
        if (IsUnlimited)
        {
            return TimeSpan.Zero;
        }

        // The exponential case is drawn directly: exact and cheaper. 1 - U lies in (0, 1].
        var unitMean = Burstiness == 1.0
            ? -Math.Log(1.0 - _random.NextDouble())
            : Gamma(Burstiness) / Burstiness;
        return TimeSpan.FromSeconds(unitMean / RequestsPerSecond);
    }

    /// <summary>A Gamma(shape, 1) sample (Marsaglia and Tsang, 2000; boosted for shapes below 1).</summary>
    private double Gamma(double shape)
    {
        if (shape < 1)
        {
            return Gamma(shape + 1) * Math.Pow(1.0 - _random.NextDouble(), 1.0 / shape);
        }

        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            var x = StandardNormal();
            var v = 1.0 + (c * x);
            if (v <= 0)
            {
                continue;
            }

            v = v * v * v;
            var u = 1.0 - _random.NextDouble();
            if (u < 1.0 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1.0 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    private double StandardNormal()
    {
        // Box-Muller; one of the pair is enough here.
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
