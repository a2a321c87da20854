using System.CommandLine;

namespace PdApp.Bench.Cli;

/// <summary>Builds the <c>pdapp-bench</c> root command.</summary>
internal static class BenchCommand
{
    /// <summary>Creates the command; <paramref name="run"/> receives validated settings.</summary>
    /// <param name="run">The benchmark, returning the process exit code.</param>
    /// <returns>The root command.</returns>
    public static RootCommand Create(Func<BenchSettings, CancellationToken, Task<int>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var options = new BenchOptions();
        var command = new RootCommand(
            "Load generator for OpenAI-compatible LLM servers and PD proxies: TTFT, TPOT, ITL and E2E " +
            "percentiles, throughput and goodput, measured from the client.");
        foreach (var option in options.All)
        {
            command.Options.Add(option);
        }

        BenchSettingsValidator.AddOptionRules(options);
        command.Validators.Add(result => BenchSettingsValidator.Validate(result, options));
        command.SetAction((parse, cancellationToken) => run(BenchSettingsBinder.Bind(parse, options), cancellationToken));
        return command;
    }
}
