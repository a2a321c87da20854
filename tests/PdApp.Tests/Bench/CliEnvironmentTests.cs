using System.CommandLine;
using PdApp.Bench.Cli;

namespace PdApp.Tests.Bench;

/// <summary>Tests that set process environment variables; they run alone so no other test sees them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "process environment";
}

[Collection(ProcessEnvironmentCollection.Name)]
public sealed class CliEnvironmentTests
{
    [Fact]
    public async Task Help_NeverShowsTheApiKeyFromTheEnvironment()
    {
        var output = new StringWriter();
        var previous = Environment.GetEnvironmentVariable("OPENAI_API_KEY");
        try
        {
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", "sk-secret-from-env");
            await BenchCommand.Create((_, _) => Task.FromResult(0)).Parse(["--help"]).InvokeAsync(new InvocationConfiguration { Output = output });
        }
        finally
        {
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", previous);
        }

        Assert.Contains("--api-key", output.ToString());
        Assert.DoesNotContain("sk-secret-from-env", output.ToString());
    }

    [Fact]
    public void ApiKey_FallsBackToOpenAiApiKeyButTheCommandLineWins()
    {
        var previous = Environment.GetEnvironmentVariable("OPENAI_API_KEY");
        try
        {
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", "sk-env");
            Assert.Equal("sk-env", Bind("--base-url http://a").Shape.ApiKey);
            Assert.Equal("sk-cli", Bind("--base-url http://a --api-key sk-cli").Shape.ApiKey);
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", null);
            Assert.Null(Bind("--base-url http://a").Shape.ApiKey);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OPENAI_API_KEY", previous);
        }
    }

    private static BenchSettings Bind(string commandLine)
    {
        BenchSettings? bound = null;
        var exit = BenchCommand.Create((settings, _) =>
        {
            bound = settings;
            return Task.FromResult(0);
        }).Parse(commandLine.Split(' ')).Invoke();
        Assert.Equal(0, exit);
        return bound!;
    }
}
