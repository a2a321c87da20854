namespace PdApp.Tests.AppHost;

public sealed class AppHostConfigurationErrorTests
{
    [Fact]
    public async Task InvalidPdSection_ExitsWithCode1_ListingEverySettingToFix_WithoutAStackTrace()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync(
            "--Pd:Connector=PyNcclConnector", "--Pd:PyNccl:KvParallelSize=3", "--Pd:Prefill:Count=0");

        Assert.Equal(1, exitCode);
        Assert.Contains("The Pd configuration is invalid", log, StringComparison.Ordinal);
        Assert.Contains("  - Pd:Prefill:Count", log, StringComparison.Ordinal);
        Assert.Contains("  - Pd:PyNccl:KvParallelSize", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidPdSection_WhenPublishing_FailsTheSameWay_AndWritesNothing()
    {
        var output = Path.Combine(Path.GetTempPath(), "pdapp-invalid-" + Guid.NewGuid().ToString("N"));

        var (exitCode, log) = await AppHostProcess.RunAsync(
            "--publisher", "compose", "--output-path", output, "--Pd:Connector=NoSuchConnector");

        Assert.Equal(1, exitCode);
        Assert.Contains("Pd:Connector", log, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }
}
