using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary><c>Pd:Proxy:InlineSocketScheduling</c> reaches Kestrel's socket transport, off by default, and streams still relay.</summary>
public sealed class InlineSocketSchedulingTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    public async Task Setting_ReachesKestrelAndStreamsAreRelayed(string? setting, bool expected)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], setting is null ? [] : [$"{ProxyOptions.Section}:{nameof(ProxyOptions.InlineSocketScheduling)}={setting}"]);

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 8, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);

        Assert.Equal(expected, proxy.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1].Data);
        Assert.True(events.Count > 2, $"expected one event per token, got {events.Count}");
    }
}
