using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Routing.Options;

/// <summary>Active health checking: <c>GET {instance}/health</c> on an interval (<c>Pd:Proxy:Health</c>).</summary>
public sealed class ActiveHealthCheckOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Proxy:Health";

    /// <summary><c>Pd:Proxy:Health:Enabled</c>, default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary><c>Pd:Proxy:Health:IntervalSeconds</c>: time between probe rounds, default 5.</summary>
    public double IntervalSeconds { get; set; } = 5;

    /// <summary><c>Pd:Proxy:Health:TimeoutSeconds</c>: one probe's time limit, default 2 (vLLM answers /health without touching the engine loop).</summary>
    public double TimeoutSeconds { get; set; } = 2;

    /// <summary>
    /// <c>Pd:Proxy:Health:UnhealthyThreshold</c>: consecutive failed probes that mark a healthy
    /// instance unhealthy, default 2. One successful probe marks it healthy again. An instance that
    /// has never passed a probe (e.g. vLLM still loading the model) is marked unhealthy on its first failure.
    /// </summary>
    public int UnhealthyThreshold { get; set; } = 2;

    /// <summary><c>Pd:Proxy:Health:Path</c>: the probed path, default <c>/health</c> (vLLM: 200 when alive, 503 when the engine died).</summary>
    public string Path { get; set; } = "/health";
}

/// <summary>Validates <see cref="ActiveHealthCheckOptions"/> at start-up.</summary>
internal sealed class ActiveHealthCheckOptionsValidator : IValidateOptions<ActiveHealthCheckOptions>
{
    public ValidateOptionsResult Validate(string? name, ActiveHealthCheckOptions options)
    {
        var failures = new List<string>();
        if (!(options.IntervalSeconds > 0))
        {
            failures.Add($"{ActiveHealthCheckOptions.SectionName}:IntervalSeconds must be positive (was {options.IntervalSeconds}).");
        }

        if (!(options.TimeoutSeconds > 0))
        {
            failures.Add($"{ActiveHealthCheckOptions.SectionName}:TimeoutSeconds must be positive (was {options.TimeoutSeconds}).");
        }

        if (options.UnhealthyThreshold < 1)
        {
            failures.Add($"{ActiveHealthCheckOptions.SectionName}:UnhealthyThreshold must be at least 1 (was {options.UnhealthyThreshold}).");
        }

        if (string.IsNullOrWhiteSpace(options.Path) || !options.Path.StartsWith('/'))
        {
            failures.Add($"{ActiveHealthCheckOptions.SectionName}:Path must start with '/' (was '{options.Path}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
