using System.Diagnostics;

namespace PdApp.Tests.AppHost;

/// <summary>Runs the built app host as a user does (<c>dotnet run</c> from its folder), with a bounded wait.</summary>
internal static class AppHostProcess
{
    /// <summary>Runs the app host with <paramref name="args"/> until it exits (60 s at most).</summary>
    /// <param name="args">Its command line.</param>
    /// <returns>The exit code and everything it printed.</returns>
    public static async Task<(int ExitCode, string Log)> RunAsync(params string[] args)
    {
        // The app host as built next to the tests (the test project references it), run from its project
        // folder as `dotnet run` does, so examples/ and appsettings.json resolve the same way.
        var projectDirectory = Path.GetDirectoryName(Projects.PdApp_AppHost.ProjectPath)!;
        var dll = Path.Combine(AppContext.BaseDirectory, "PdApp.AppHost.dll");
        Assert.True(File.Exists(dll), $"App host not built at {dll}");

        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = projectDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
