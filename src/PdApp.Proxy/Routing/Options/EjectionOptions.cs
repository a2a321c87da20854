using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Routing.Options;

/// <summary>Passive health checking (outlier ejection) from real call outcomes (<c>Pd:Proxy:Ejection</c>).</summary>
public sealed class EjectionOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Proxy:Ejection";

    /// <summary><c>Pd:Proxy:Ejection:ConsecutiveFailures</c>: failed calls in a row that eject an instance, default 5.</summary>
    public int ConsecutiveFailures { get; set; } = 5;

    /// <summary><c>Pd:Proxy:Ejection:BaseEjectionSeconds</c>: the first ejection's length, default 10; each further ejection without a success in between doubles it.</summary>
    public double BaseEjectionSeconds { get; set; } = 10;

    /// <summary><c>Pd:Proxy:Ejection:MaxEjectionSeconds</c>: the longest ejection, default 300.</summary>
    public double MaxEjectionSeconds { get; set; } = 300;

    /// <summary>
    /// <c>Pd:Proxy:Ejection:BackoffResetSeconds</c>: an instance back in service this long since its
    /// last ejection ended starts again at <see cref="BaseEjectionSeconds"/>, default 60. Without it
    /// the back-off would keep doubling across recoveries that no request happened to confirm.
    /// </summary>
    public double BackoffResetSeconds { get; set; } = 60;
}

/// <summary>Validates <see cref="EjectionOptions"/> at start-up.</summary>
internal sealed class EjectionOptionsValidator : IValidateOptions<EjectionOptions>
{
    public ValidateOptionsResult Validate(string? name, EjectionOptions options)
    {
        var failures = new List<string>();
        if (options.ConsecutiveFailures < 1)
        {
            failures.Add($"{EjectionOptions.SectionName}:ConsecutiveFailures must be at least 1 (was {options.ConsecutiveFailures}).");
        }

        if (!(options.BaseEjectionSeconds > 0))
        {
            failures.Add($"{EjectionOptions.SectionName}:BaseEjectionSeconds must be positive (was {options.BaseEjectionSeconds}).");
        }

        if (!(options.MaxEjectionSeconds >= options.BaseEjectionSeconds))
        {
            failures.Add($"{EjectionOptions.SectionName}:MaxEjectionSeconds ({options.MaxEjectionSeconds}) must be at least {EjectionOptions.SectionName}:BaseEjectionSeconds ({options.BaseEjectionSeconds}).");
        }

        if (!(options.BackoffResetSeconds > 0))
        {
            failures.Add($"{EjectionOptions.SectionName}:BackoffResetSeconds must be positive (was {options.BackoffResetSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
