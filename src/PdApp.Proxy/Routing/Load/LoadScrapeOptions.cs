using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Routing.Load;

/// <summary>How the proxy reads each instance's load from its <c>/metrics</c>, bound from <c>Pd:Proxy:LoadScrape</c>.</summary>
public sealed class LoadScrapeOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Pd:Proxy:LoadScrape";

    /// <summary><c>Pd:Proxy:LoadScrape:Enabled</c>: scrape at all (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// <c>Pd:Proxy:LoadScrape:IntervalSeconds</c>: time between scrapes of every instance (default 2;
    /// vLLM updates its gauges on every engine step, so shorter only costs CPU on both sides).
    /// </summary>
    public double IntervalSeconds { get; set; } = 2;

    /// <summary><c>Pd:Proxy:LoadScrape:TimeoutSeconds</c>: one scrape's limit (default 1.5; at most the interval).</summary>
    public double TimeoutSeconds { get; set; } = 1.5;

    /// <summary><c>Pd:Proxy:LoadScrape:MaxResponseBytes</c>: larger pages are refused (default 8 MiB; vLLM's is ~100 KB).</summary>
    public int MaxResponseBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>The interval.</summary>
    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);

    /// <summary>The timeout.</summary>
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>A reading older than three intervals is stale: the gauges stop reporting it.</summary>
    public TimeSpan StaleAfter => TimeSpan.FromSeconds(IntervalSeconds * 3);
}

/// <summary>Validates <see cref="LoadScrapeOptions"/> at start-up, naming the setting.</summary>
internal sealed class LoadScrapeOptionsValidator : IValidateOptions<LoadScrapeOptions>
{
    public ValidateOptionsResult Validate(string? name, LoadScrapeOptions options)
    {
        var errors = new List<string>();
        if (!(options.IntervalSeconds is > 0 and <= 3600))
        {
            errors.Add($"{LoadScrapeOptions.Section}:IntervalSeconds must be greater than 0 and at most 3600 (was {options.IntervalSeconds}).");
        }

        if (!(options.TimeoutSeconds > 0) || options.TimeoutSeconds > options.IntervalSeconds)
        {
            errors.Add($"{LoadScrapeOptions.Section}:TimeoutSeconds must be greater than 0 and at most IntervalSeconds ({options.IntervalSeconds}); was {options.TimeoutSeconds}.");
        }

        if (options.MaxResponseBytes < 1024)
        {
            errors.Add($"{LoadScrapeOptions.Section}:MaxResponseBytes must be at least 1024 (was {options.MaxResponseBytes}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
