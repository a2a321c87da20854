using PdApp.Hosting.Dashboard;

namespace PdApp.Tests.Observability;

/// <summary>The dashboard's test-request answer reads as the prompt continued.</summary>
public sealed class DashboardTestRequestTextTests
{
    [Theory]
    [InlineData("known for its hills", " known for its hills")]
    [InlineData(" known for its hills", " known for its hills")]
    [InlineData(", a city", ", a city")]
    [InlineData("", "")]
    public void Continuation_SeparatesThePromptFromTheCompletion(string completion, string expected) =>
        Assert.Equal(expected, PdDashboardCommands.Continuation(completion));
}
