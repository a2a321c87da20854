using System.Diagnostics;
using PdApp.Hosting.Deployment.Compose;

namespace PdApp.Tests.Deployment;

/// <summary>
/// A relative <c>--output-path</c> lands where the user ran the command (the shell's <c>PWD</c>), not in the app
/// host's folder that <c>dotnet run</c> starts it in.
/// </summary>
public sealed class PublishOutputPathTests
{
    [Fact]
    public async Task RelativeOutputPath_IsResolvedAgainstTheInvokingShellsDirectory()
    {
        using var folder = TempFolder.Create("pdapp-pwd-");
        var invocation = folder.Path;
        var projectDirectory = Path.GetDirectoryName(Projects.PdApp_AppHost.ProjectPath)!;
        var dll = Path.Combine(AppContext.BaseDirectory, "PdApp.AppHost.dll");

        // As `dotnet run --project src/PdApp.AppHost` does: the process starts in the project folder, PWD is the shell's.
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = projectDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { dll, "--publisher", "compose", "--output-path", "deploy-test/" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PWD"] = invocation;
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, await stdout + await stderr);
        Assert.True(File.Exists(Path.Combine(invocation, "deploy-test", ComposeWriter.ComposeFileName)));
        Assert.False(Directory.Exists(Path.Combine(projectDirectory, "deploy-test")));
    }
}
