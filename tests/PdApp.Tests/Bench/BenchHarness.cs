using System.CommandLine;
using System.Text.Json;
using PdApp.Bench;
using PdApp.Bench.Cli;
using Spectre.Console;

namespace PdApp.Tests.Bench;

/// <summary>Runs the real bench command line in-process, capturing its console and JSON results.</summary>
internal static class BenchHarness
{
    public static async Task<BenchRun> RunAsync(string commandLine, CancellationToken cancellationToken = default)
    {
        var folder = Directory.CreateTempSubdirectory("pdapp-bench-run-");
        try
        {
            var json = Path.Combine(folder.FullName, "results.json");
            var output = new StringWriter();
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
            });
            var command = BenchCommand.Create((settings, token) => new BenchApplication(console, progress: null, TimeProvider.System).RunAsync(settings, token));
            var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Concat(["--output-json", json]).ToArray();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var exit = await command.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, timeout.Token);
            var report = File.Exists(json) ? JsonDocument.Parse(await File.ReadAllTextAsync(json, cancellationToken)) : null;
            return new BenchRun(exit, output.ToString(), report);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

/// <summary>What a bench run printed and wrote.</summary>
internal sealed record BenchRun(int ExitCode, string Output, JsonDocument? Report)
{
    public JsonElement Run(int index = 0) => Report!.RootElement.GetProperty("runs")[index];
}
