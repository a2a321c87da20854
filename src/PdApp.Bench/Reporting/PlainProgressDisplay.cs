using System.Globalization;
using PdApp.Bench.Load;

namespace PdApp.Bench.Reporting;

/// <summary>
/// Progress for redirected output and CI logs: one plain line every few seconds on standard
/// error, so redirected standard output carries only the results.
/// </summary>
internal sealed class PlainProgressDisplay : IProgressDisplay
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly TextWriter _writer;
    private readonly TimeProvider _time;

    /// <summary>Creates the display writing to <paramref name="writer"/>.</summary>
    public PlainProgressDisplay(TextWriter writer, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(time);
        _writer = writer;
        _time = time;
    }

    /// <inheritdoc />
    public async Task<T> ShowAsync<T>(RunProgress progress, Func<Task<T>> run)
    {
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentNullException.ThrowIfNull(run);
        var started = _time.GetTimestamp();
        await _writer.WriteLineAsync($"{progress.Title}: started").ConfigureAwait(false);
        var running = run();
        while (!running.IsCompleted)
        {
            await Task.WhenAny(running, Task.Delay(Interval, _time)).ConfigureAwait(false);
            if (!running.IsCompleted)
            {
                await WriteLineAsync(progress, _time.GetElapsedTime(started)).ConfigureAwait(false);
            }
        }

        await WriteLineAsync(progress, _time.GetElapsedTime(started)).ConfigureAwait(false);
        return await running.ConfigureAwait(false);
    }

    private Task WriteLineAsync(RunProgress progress, TimeSpan elapsed) =>
        _writer.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"{progress.Title}: {elapsed.TotalSeconds:0.0}s done {progress.Finished}/{progress.TotalRequests?.ToString(CultureInfo.InvariantCulture) ?? "?"} failed {progress.Failed} output {progress.OutputTokens / Math.Max(elapsed.TotalSeconds, 1e-3):0} tok/s"));
}
