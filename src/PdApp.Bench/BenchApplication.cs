using System.Text.Json;
using PdApp.Bench.Cli;
using PdApp.Bench.Load;
using PdApp.Bench.Measurement;
using PdApp.Bench.Reporting;
using PdApp.Bench.Targets;
using PdApp.Bench.Workloads;
using Spectre.Console;

namespace PdApp.Bench;

/// <summary>
/// One bench invocation: resolves the model, loads the workload, runs each concurrency level
/// against the targets, and reports (tables, JSON, chart).
/// </summary>
internal sealed class BenchApplication
{
    /// <summary>Every request succeeded.</summary>
    public const int ExitSuccess = 0;

    /// <summary>The bench could not start (unreachable server, bad dataset).</summary>
    public const int ExitSetupFailed = 2;

    /// <summary>The run finished but some requests failed.</summary>
    public const int ExitRequestsFailed = 3;

    /// <summary>Aborted with Ctrl+C (partial results were still reported).</summary>
    public const int ExitAborted = 130;

    private readonly IAnsiConsole _console;
    private readonly IProgressDisplay? _progress;
    private readonly TimeProvider _time;

    /// <summary>Creates the application.</summary>
    /// <param name="console">Where results go.</param>
    /// <param name="progress">Live progress, or null for none.</param>
    /// <param name="time">The clock.</param>
    public BenchApplication(IAnsiConsole console, IProgressDisplay? progress, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(time);
        _console = console;
        _progress = progress;
        _time = time;
    }

    /// <summary>Runs the benchmark.</summary>
    /// <returns>The process exit code.</returns>
    public async Task<int> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var startedAt = _time.GetUtcNow();
        using var http = BenchHttpClientFactory.Create();
        var exchange = new OpenAiExchange(http, _time);

        RequestShape shape;
        Workload workload;
        try
        {
            shape = await ResolveShapeAsync(settings, http, cancellationToken).ConfigureAwait(false);
            workload = await DatasetLoader.LoadAsync(settings.Dataset, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or InvalidDataException or IOException or JsonException
                                   || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return ExitSetupFailed;
        }
        catch (OperationCanceledException)
        {
            return ExitAborted;
        }

        var targets = CreateTargets(settings, exchange, shape);
        _console.MarkupLine(Markup.Escape(
            $"model {shape.Model}, {shape.Endpoint.ToString().ToLowerInvariant()} endpoint, {(shape.Stream ? "streaming" : "not streaming")}, " +
            $"{settings.Dataset.Kind.ToString().ToLowerInvariant()} dataset ({workload.Count} prompts), targets: {string.Join(", ", targets.Select(t => t.Name))}"));

        await SendInitialTestRequestsAsync(targets, workload, cancellationToken).ConfigureAwait(false);
        var levels = new List<LevelResult>();
        var runner = new LevelRunner(new LoadRunner(_time), _progress, _console, _time);
        foreach (var level in settings.ConcurrencyLevels)
        {
            var result = await runner.RunAsync(settings, targets, workload, level, cancellationToken).ConfigureAwait(false);
            levels.Add(result);
            new ResultTableWriter(_console).Write(result);
            if (result.Aborted)
            {
                break;
            }
        }

        new ResultTableWriter(_console).WriteSweep(levels);
        await WriteOutputsAsync(settings with { Shape = shape }, targets, levels, startedAt).ConfigureAwait(false);

        if (levels.Any(level => level.Aborted))
        {
            return ExitAborted;
        }

        return levels.Any(level => level.Runs.Any(run => run.Failed > 0)) ? ExitRequestsFailed : ExitSuccess;
    }

    private async Task WriteOutputsAsync(BenchSettings settings, IReadOnlyList<IBenchTarget> targets, List<LevelResult> levels, DateTimeOffset startedAt)
    {
        // Written even after Ctrl+C: partial results are still results.
        if (settings.OutputJson is { } json)
        {
            var report = BenchReport.Create(settings, [.. targets.Select(t => t.Name)], levels, startedAt, _time.GetUtcNow());
            await JsonReportWriter.WriteAsync(report, json, CancellationToken.None).ConfigureAwait(false);
            _console.MarkupLine($"results written to {Markup.Escape(json.FullName)}");
        }

        if (settings.Plot is { } plot)
        {
            PlotWriter.Write(levels, plot);
            _console.MarkupLine($"chart written to {Markup.Escape(plot.FullName)}");
        }
    }

    /// <summary>
    /// One unmeasured request per target before anything is timed, as vLLM's benchmark starts with
    /// a single test prompt: a misconfigured target shows up at once, and connection set-up and JIT
    /// compilation of the client's paths are not charged to whichever target happens to go first.
    /// </summary>
    private async Task SendInitialTestRequestsAsync(IReadOnlyList<IBenchTarget> targets, Workload workload, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var target in targets)
            {
                var outcome = await target.SendAsync(workload[0], observer: null, cancellationToken).ConfigureAwait(false);
                if (!outcome.Succeeded)
                {
                    _console.MarkupLine($"[yellow]warning:[/] the initial test request to {Markup.Escape(target.Name)} failed: {Markup.Escape($"{outcome.ErrorKind}: {outcome.ErrorMessage}")}");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C during the test request: the first level sees the same token and ends at once.
        }
    }

    private static async Task<RequestShape> ResolveShapeAsync(BenchSettings settings, HttpClient http, CancellationToken cancellationToken)
    {
        if (settings.Shape.Model.Length > 0)
        {
            return settings.Shape;
        }

        var model = await ModelResolver.ResolveAsync(http, settings.Primary.ModelSource, settings.Shape.ApiKey, cancellationToken).ConfigureAwait(false);
        return settings.Shape with { Model = model };
    }

    private static IReadOnlyList<IBenchTarget> CreateTargets(BenchSettings settings, OpenAiExchange exchange, RequestShape shape)
    {
        var targets = new List<IBenchTarget>
        {
            settings.Primary.PdDirect is { } pair
                ? new PdDirectTarget(exchange, shape, pair.Prefill, pair.Decode, settings.Primary.Connector!)
                : new OpenAiTarget(exchange, shape, settings.Primary.BaseUrl!),
        };
        if (settings.Compare is { } compare)
        {
            targets.Add(new OpenAiTarget(exchange, shape, compare));
        }

        return targets;
    }
}
