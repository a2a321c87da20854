using System.Globalization;
using PdApp.Bench.Load;
using Spectre.Console;

namespace PdApp.Bench.Reporting;

/// <summary>
/// A Spectre.Console progress bar refreshed a few times a second from the run's counters, for
/// interactive terminals. Polling keeps the request path free of display work.
/// </summary>
internal sealed class LiveProgressDisplay : IProgressDisplay
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(250);
    private readonly IAnsiConsole _console;
    private readonly TimeProvider _time;

    /// <summary>Creates the display.</summary>
    public LiveProgressDisplay(IAnsiConsole console, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(time);
        _console = console;
        _time = time;
    }

    /// <inheritdoc />
    public async Task<T> ShowAsync<T>(RunProgress progress, Func<Task<T>> run)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(run);
        // The title goes on its own line: a long description would be cut to "…" on narrow terminals.
        _console.MarkupLine($"[bold]{Markup.Escape(progress.Title)}[/]");
        return await _console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var started = _time.GetTimestamp();
                var task = context.AddTask("starting", maxValue: Total(progress));
                var running = run();
                while (!running.IsCompleted)
                {
                    await Task.WhenAny(running, Task.Delay(RefreshInterval, _time)).ConfigureAwait(false);
                    Update(task, progress, _time.GetElapsedTime(started));
                }

                Update(task, progress, _time.GetElapsedTime(started));
                task.StopTask();
                return await running.ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    private static double Total(RunProgress progress) =>
        progress.TotalRequests ?? progress.Duration?.TotalSeconds ?? 1;

    private static void Update(ProgressTask task, RunProgress progress, TimeSpan elapsed)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
        task.Value = progress.TotalRequests is not null ? progress.Finished : Math.Min(elapsed.TotalSeconds, Total(progress));
        task.Description = Markup.Escape(string.Create(
            CultureInfo.InvariantCulture,
            $"{progress.Finished}/{progress.TotalRequests?.ToString(CultureInfo.InvariantCulture) ?? progress.Sent.ToString(CultureInfo.InvariantCulture)} done, {progress.Failed} failed, {progress.OutputTokens / seconds:0} tok/s"));
    }
}
