using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Memory;

/// <summary>Start-up validation of <see cref="MemoryOptions"/>; every failure names its setting.</summary>
internal sealed class MemoryOptionsValidator : IValidateOptions<MemoryOptions>
{
    public ValidateOptionsResult Validate(string? name, MemoryOptions options)
    {
        var failures = new List<string>();
        if (!(options.IdleSeconds > 0) || double.IsInfinity(options.IdleSeconds))
        {
            failures.Add($"{MemoryOptions.IdleSecondsKey} must be a positive number of seconds (was {options.IdleSeconds}).");
        }

        if (!(options.MinIntervalSeconds >= 0) || double.IsInfinity(options.MinIntervalSeconds))
        {
            failures.Add($"{MemoryOptions.MinIntervalSecondsKey} must be zero or a positive number of seconds (was {options.MinIntervalSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
