using System.Diagnostics.Tracing;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Logging.EventSource;
using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Endpoints;

/// <summary>
/// Whether any logger provider reads logging scopes, so that <see cref="RequestIdMiddleware"/> opens the
/// request-id scope only when a log line can carry it: a scope costs a scope node, an execution context
/// and the middleware's state machine for a stream's whole lifetime (~0.3 KB per stream,
/// bench/RESULTS.md 4.20). The console provider reads them when its formatter's <c>IncludeScopes</c> is
/// set (<c>Logging:Console:FormatterOptions:IncludeScopes</c>, read on every request, so a reloaded
/// setting applies at once), the EventSource provider while a listener is attached (dotnet-trace,
/// dotnet-monitor); any other provider (OpenTelemetry's, a test's, a custom one) is assumed to read them.
/// </summary>
internal sealed class RequestLogScopes
{
    /// <summary>The name of <c>Microsoft.Extensions.Logging</c>'s event source.</summary>
    internal const string LoggingEventSourceName = "Microsoft-Extensions-Logging";

    private readonly bool _always;
    private readonly bool _console;
    private readonly EventSource? _eventSource;
    private readonly IOptionsMonitor<ConsoleLoggerOptions> _consoleOptions;
    private readonly IOptionsMonitor<SimpleConsoleFormatterOptions> _simple;
    private readonly IOptionsMonitor<JsonConsoleFormatterOptions> _json;
    private readonly IOptionsMonitor<ConsoleFormatterOptions> _systemd;

    /// <summary>Reads which providers are registered.</summary>
    /// <param name="providers">The logger providers (the logger factory's own instances).</param>
    /// <param name="consoleOptions">The console provider's options (its formatter's name).</param>
    /// <param name="simple">The simple formatter's options.</param>
    /// <param name="json">The JSON formatter's options.</param>
    /// <param name="systemd">The systemd formatter's options.</param>
    public RequestLogScopes(
        IEnumerable<ILoggerProvider> providers,
        IOptionsMonitor<ConsoleLoggerOptions> consoleOptions,
        IOptionsMonitor<SimpleConsoleFormatterOptions> simple,
        IOptionsMonitor<JsonConsoleFormatterOptions> json,
        IOptionsMonitor<ConsoleFormatterOptions> systemd)
    {
        ArgumentNullException.ThrowIfNull(providers);
        _consoleOptions = consoleOptions ?? throw new ArgumentNullException(nameof(consoleOptions));
        _simple = simple ?? throw new ArgumentNullException(nameof(simple));
        _json = json ?? throw new ArgumentNullException(nameof(json));
        _systemd = systemd ?? throw new ArgumentNullException(nameof(systemd));
        foreach (var provider in providers)
        {
            switch (provider)
            {
                case ConsoleLoggerProvider:
                    _console = true;
                    break;
                case EventSourceLoggerProvider:
                    _eventSource ??= EventSource.GetSources().FirstOrDefault(s => s.Name == LoggingEventSourceName);
                    _always |= _eventSource is null;
                    break;
                default:
                    _always = true;
                    break;
            }
        }
    }

    /// <summary>Whether a scope opened now would be read by some provider.</summary>
    public bool AreRead => _always || (_eventSource?.IsEnabled() ?? false) || (_console && ConsoleReadsScopes());

    private bool ConsoleReadsScopes()
    {
        var options = _consoleOptions.CurrentValue;
#pragma warning disable CS0618 // Without a formatter name the provider still honours the obsolete ConsoleLoggerOptions.IncludeScopes.
        return options.FormatterName switch
        {
            null => options.IncludeScopes || _simple.CurrentValue.IncludeScopes,
            ConsoleFormatterNames.Simple => _simple.CurrentValue.IncludeScopes,
            ConsoleFormatterNames.Json => _json.CurrentValue.IncludeScopes,
            ConsoleFormatterNames.Systemd => _systemd.CurrentValue.IncludeScopes,
            _ => true, // a custom formatter: it may print them
        };
#pragma warning restore CS0618
    }
}
