using PdApp.Bench;
using PdApp.Bench.Cli;
using PdApp.Bench.Reporting;
using Spectre.Console;

// Results go to standard output; live progress too on a terminal, else plain lines on standard error.
var command = BenchCommand.Create((settings, cancellationToken) =>
{
    var console = AnsiConsole.Console;
    var interactive = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
    IProgressDisplay? progress = !settings.ShowProgress
        ? null
        : interactive
            ? new LiveProgressDisplay(console, TimeProvider.System)
            : new PlainProgressDisplay(Console.Error, TimeProvider.System);
    // Not a terminal (a file, a pipe, tee): Markdown tables written without wrapping at a guessed width.
    var tables = interactive ? TableFormat.Terminal : TableFormat.Markdown;
    return new BenchApplication(console, progress, TimeProvider.System, tables).RunAsync(settings, cancellationToken);
});
return await command.Parse(args).InvokeAsync();
