using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Tests.Proxy;

public sealed class UpstreamChannelTests
{
    [Fact]
    public async Task AResponseGivenUpBeforeItsEnd_ClosesItsConnection_InsteadOfReadingTheStreamOn()
    {
        // An engine's token stream that never ends by itself: the instance sees the proxy leave at
        // once (vLLM aborts the request then), not after the handler's drain (up to 1 MB or 2 s).
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapPost("/v1/completions", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            using var registration = context.RequestAborted.Register(() => left.TrySetResult());
            try
            {
                while (!context.RequestAborted.IsCancellationRequested)
                {
                    await context.Response.WriteAsync("data: {\"choices\":[{\"text\":\" token\"}]}\n\n", context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(20, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                // The proxy left.
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        using var channel = new UpstreamChannel(new UpstreamTimeouts(Microsoft.Extensions.Options.Options.Create(new ProxyOptions())));

        using (var request = new HttpRequestMessage(HttpMethod.Post, address + "/v1/completions") { Content = new StringContent("{}") })
        using (var response = await channel.Invoker.SendAsync(request, CancellationToken.None))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64];
            Assert.True(await body.ReadAsync(buffer) > 0);
        }

        await left.Task.WaitAsync(TimeSpan.FromSeconds(1));
    }
}
