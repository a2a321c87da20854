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

    /// <summary>The bench could not start (unreachable server, bad dataset, failed initial test request).</summary>
    public const int ExitSetupFailed = 2;

    /// <summary>The run finished but some requests failed.</summary>
    public const int ExitRequestsFailed = 3;

    /// <summary>Aborted with Ctrl+C (partial results were still reported).</summary>
    public const int ExitAborted = 130;

    private readonly ReportConsole _output;
    private readonly IProgressDisplay? _progress;
    private readonly TimeProvider _time;

    /// <summary>Creates the application.</summary>
    /// <param name="console">Where results go.</param>
    /// <param name="progress">Live progress, or null for none.</param>
    /// <param name="time">The clock.</param>
    /// <param name="format">How tables are drawn; by default bordered on an interactive console, else Markdown.</param>
    public BenchApplication(IAnsiConsole console, IProgressDisplay? progress, TimeProvider time, TableFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(time);
        _output = new ReportConsole(console, format ?? (console.Profile.Capabilities.Interactive ? TableFormat.Terminal : TableFormat.Markdown));
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
            _output.Error(e.Message);
            return ExitSetupFailed;
        }
        catch (OperationCanceledException)
        {
            return ExitAborted;
        }

        var targets = CreateTargets(settings, exchange, shape);
        _output.Line(
            $"model {shape.Model}, {shape.Endpoint.ToString().ToLowerInvariant()} endpoint, {(shape.Stream ? "streaming" : "not streaming")}, " +
            $"{settings.Dataset.Name} dataset ({workload.Count} prompts), targets: {string.Join(", ", targets.Select((t, i) => $"{settings.Labels.ElementAtOrDefault(i) ?? t.Name} ({t.Name})"))}");

        try
        {
            if (!await SendInitialTestRequestsAsync(settings, targets, workload, cancellationToken).ConfigureAwait(false))
            {
                return ExitSetupFailed;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitAborted;
        }

        var levels = new List<LevelResult>();
        var runner = new LevelRunner(new LoadRunner(_time), _progress, _output, _time);
        var tables = new ResultTableWriter(_output, settings.Report);
        foreach (var level in settings.ConcurrencyLevels)
        {
            var result = await runner.RunAsync(settings, targets, workload, level, cancellationToken).ConfigureAwait(false);
            levels.Add(result);
            tables.Write(result);
            if (result.Aborted)
            {
                break;
            }
        }

        tables.WriteSweep(levels);
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
            _output.Line($"results written to {json.FullName}");
        }

        if (settings.SaveResult is not null)
        {
            foreach (var path in await VllmResultFile.WriteAsync(settings, levels, _time.GetLocalNow(), CancellationToken.None).ConfigureAwait(false))
            {
                _output.Line($"result saved to {path}");
            }
        }

        if (settings.Plot is { } plot)
        {
            PlotWriter.Write(levels, plot);
            _output.Line($"chart written to {plot.FullName}");
        }
    }

    /// <summary>
    /// One unmeasured request per target before anything is timed (<see cref="InitialTestRequest"/>);
    /// as in vLLM, a failure stops the run with the request's error. Skipped when the ready-check
    /// timeout is zero.
    /// </summary>
    /// <returns>Whether every target answered.</returns>
    private async Task<bool> SendInitialTestRequestsAsync(BenchSettings settings, IReadOnlyList<IBenchTarget> targets, Workload workload, CancellationToken cancellationToken)
    {
        if (settings.ReadyCheckTimeout <= TimeSpan.Zero)
        {
            _output.Line("Skipping the initial test request (--ready-check-timeout-sec 0).");
            return true;
        }

        var check = new InitialTestRequest(_time);
        foreach (var target in targets)
        {
            var outcome = await check.SendAsync(
                target,
                workload[0],
                settings.ReadyCheckTimeout,
                first => _output.Line($"{target.Name} is not ready ({first.ErrorKind}); retrying for up to {settings.ReadyCheckTimeout.TotalSeconds:0} s (--ready-check-timeout-sec)."),
                cancellationToken).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                _output.Error(
                    $"the initial test request to {target.Name} failed, so the benchmark did not start " +
                    $"(check the target and the benchmark arguments): {outcome.ErrorKind}: {outcome.ErrorMessage}");
                return false;
            }
        }

        _output.Line("Initial test run completed.");
        return true;
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
