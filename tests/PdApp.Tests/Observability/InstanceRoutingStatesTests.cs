using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting.Dashboard;

namespace PdApp.Tests.Observability;

/// <summary>The proxy's admin list mapped to the engines' dashboard states.</summary>
public sealed class InstanceRoutingStatesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 1, 50, 0, TimeSpan.Zero);

    private static string Instance(string name, bool healthy = true, bool draining = false, string? ejectedUntil = null) =>
        $$"""{"name":"{{name}}","role":"Decode","address":"http://10.0.0.5:8200/","healthy":{{(healthy ? "true" : "false")}},"draining":{{(draining ? "true" : "false")}},"removeWhenDrained":false,"ejectedUntil":{{(ejectedUntil is null ? "null" : $"\"{ejectedUntil}\"")}},"available":false,"outstanding":0,"load":null}""";

    private static IReadOnlyDictionary<string, string?> Map(params string[] instances) =>
        InstanceRoutingStates.FromAdminList($$"""{"object":"list","data":[{{string.Join(',', instances)}}]}""", Now);

    [Fact]
    public void RoutedInstance_HasNoCustomState()
    {
        var states = Map(Instance("decode-0"));

        Assert.Null(states["decode-0"]);
    }

    [Fact]
    public void DrainedInstance_IsDraining_EvenWhenAlsoUnhealthy()
    {
        var states = Map(Instance("decode-0", draining: true), Instance("decode-1", healthy: false, draining: true));

        Assert.Equal("Draining", states["decode-0"]);
        Assert.Equal("Draining", states["decode-1"]);
    }

    [Fact]
    public void FailingHealthCheck_IsEjectedWithTheReason()
    {
        var states = Map(Instance("prefill-0", healthy: false));

        Assert.Equal("Ejected: health check failing", states["prefill-0"]);
    }

    [Fact]
    public void PassiveEjection_IsEjectedUntilItEnds()
    {
        var states = Map(
            Instance("decode-0", ejectedUntil: "2026-12-02T01:50:30+00:00"),
            Instance("decode-1", ejectedUntil: "2026-12-02T01:49:00+00:00"));

        Assert.Equal("Ejected: failed requests, back at 01:50:30 UTC", states["decode-0"]);
        Assert.Null(states["decode-1"]);
    }

    [Theory]
    [InlineData("Draining", true)]
    [InlineData("Ejected: health check failing", true)]
    [InlineData("Running", false)]
    [InlineData("Exited", false)]
    [InlineData(null, false)]
    public void OnlyItsOwnStatesAreRestored(string? state, bool custom) =>
        Assert.Equal(custom, InstanceRoutingStates.IsCustom(state));

    [Fact]
    public void StatesAreWarnings() =>
        Assert.Equal(KnownResourceStateStyles.Warn, InstanceRoutingStates.Style);

    [Fact]
    public void ListWithoutData_MapsNothing() =>
        Assert.Empty(InstanceRoutingStates.FromAdminList("""{"object":"list"}""", Now));
}
