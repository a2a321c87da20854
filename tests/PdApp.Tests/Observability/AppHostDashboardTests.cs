using System.Net.Http.Headers;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using PdApp.Hosting.Dashboard;

namespace PdApp.Tests.Observability;

/// <summary>The real app host: its model carries the dashboard commands, and they work once it runs.</summary>
public sealed class AppHostDashboardTests
{
    [Fact]
    public async Task AppHostModel_DeclaresDashboardCommandsAndAdminKey()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["Pd:Backend=simulator", "Pd:Prefill:Count=1", "Pd:Decode:Count=2"], timeout.Token);

        var proxy = builder.Resources.Single(r => r.Name == "proxy");
        Assert.Contains(proxy.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == PdDashboardExtensions.SendTestRequestCommand);
        foreach (var name in new[] { "prefill-0", "decode-0", "decode-1" })
        {
            var instance = builder.Resources.Single(r => r.Name == name);
            var commands = instance.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name).ToList();
            Assert.Contains(PdDashboardExtensions.DrainCommand, commands);
            Assert.Contains(PdDashboardExtensions.UndrainCommand, commands);
            Assert.Contains(instance.Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Type == "Parent" && r.Resource == proxy);
        }

        Assert.True(Assert.IsType<ParameterResource>(builder.Resources.Single(r => r.Name == PdDashboardExtensions.AdminKeyParameterName)).Secret);
    }

    [Fact]
    public async Task RunningAppHost_TestRequestAndDrainCommandsWorkThroughTheProxy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["Pd:Backend=simulator", "Pd:Prefill:Count=1", "Pd:Decode:Count=1", $"Parameters:{PdDashboardExtensions.AdminKeyParameterName}=apphost-test-key"],
            timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        foreach (var name in new[] { "proxy", "prefill-0", "decode-0" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }

        var proxy = builder.Resources.Single(r => r.Name == "proxy");
        var decode = builder.Resources.Single(r => r.Name == "decode-0");

        var test = await app.ResourceCommands.ExecuteCommandAsync(proxy, PdDashboardExtensions.SendTestRequestCommand, timeout.Token);
        Assert.True(test.Success, test.Message);
        Assert.Contains("prefill-0 -> decode-0", test.Message, StringComparison.Ordinal);

        var drained = await app.ResourceCommands.ExecuteCommandAsync(decode, PdDashboardExtensions.DrainCommand, timeout.Token);
        Assert.True(drained.Success, drained.Message);
        using var client = app.CreateHttpClient("proxy", "http");
        Assert.True(await IsDrainingAsync(client, "decode-0", timeout.Token));
        var shown = await app.ResourceNotifications.WaitForResourceAsync(
            "decode-0", e => e.Snapshot.State?.Text == InstanceRoutingStates.Draining, timeout.Token);
        Assert.Equal(KnownResourceStateStyles.Warn, shown.Snapshot.State?.Style);

        var undrained = await app.ResourceCommands.ExecuteCommandAsync(decode, PdDashboardExtensions.UndrainCommand, timeout.Token);
        Assert.True(undrained.Success, undrained.Message);
        Assert.False(await IsDrainingAsync(client, "decode-0", timeout.Token));
        await app.ResourceNotifications.WaitForResourceAsync(
            "decode-0", e => e.Snapshot.State?.Text == KnownResourceStates.Running, timeout.Token);
    }

    private static async Task<bool> IsDrainingAsync(HttpClient client, string name, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/instances");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "apphost-test-key");
        using var response = await client.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return json.RootElement.GetProperty("data").EnumerateArray()
            .Single(i => i.GetProperty("name").GetString() == name)
            .GetProperty("draining").GetBoolean();
    }
}
