namespace PdApp.Hosting.Deployment.Publishing;

/// <summary>
/// Resolves a relative <c>--output-path</c> against the directory the user ran the command from. The Aspire app
/// host SDK starts <c>dotnet run</c> in the project folder (<c>RunWorkingDirectory</c>), so Aspire's own resolution
/// puts <c>deploy/</c> under <c>src/PdApp.AppHost/</c>; the shell's <c>PWD</c>, inherited through <c>dotnet run</c>,
/// still names where the command was typed.
/// </summary>
internal static class PublishOutputPath
{
    /// <summary>The configuration key <c>--output-path</c> maps to.</summary>
    public const string ConfigurationKey = "Pipeline:OutputPath";

    /// <summary>
    /// <paramref name="path"/> made absolute: unchanged when rooted; else against <paramref name="invocationDirectory"/>
    /// (the shell's <c>PWD</c>) when that is an existing absolute folder; else against <paramref name="currentDirectory"/>.
    /// </summary>
    /// <param name="path">The configured output path.</param>
    /// <param name="invocationDirectory">The shell's working directory (<c>PWD</c>), or null.</param>
    /// <param name="currentDirectory">The process's working directory.</param>
    /// <returns>The absolute path.</returns>
    public static string Resolve(string path, string? invocationDirectory, string currentDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Path.IsPathRooted(path))
        {
            return Path.GetFullPath(path);
        }

        var baseDirectory = invocationDirectory is { Length: > 0 } && Path.IsPathRooted(invocationDirectory) && Directory.Exists(invocationDirectory)
            ? invocationDirectory
            : currentDirectory;
        return Path.GetFullPath(path, baseDirectory);
    }
}
