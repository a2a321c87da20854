using System.Net;
using System.Net.Sockets;
using System.Text;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>Slow uploads neither hold admission slots nor turn into 500s.</summary>
public sealed class SlowUploadTests
{
    private static async Task<ProxyFixture> StartAsync(params string[] settings)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0");
        return await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], settings);
    }

    /// <summary>Opens a connection, sends the headers and the first bytes of a large body, then stalls.</summary>
    private static async Task<TcpClient> StartStalledUploadAsync(ProxyFixture proxy)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.BaseAddress.Port);
        var head = $"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"model\":";
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));
        return client;
    }

    private static async Task<string> ReadResponseAsync(TcpClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[8192];
        var text = new StringBuilder();
        try
        {
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, timeout.Token)) > 0)
            {
                text.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (text.ToString().Contains("}}", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // The server may reset after answering.
        }

        return text.ToString();
    }

    [Fact]
    public async Task StalledUploads_DoNotHoldAdmissionSlots()
    {
        await using var proxy = await StartAsync(
            "Pd:Proxy:Admission:MaxConcurrentRequests=2", "Pd:Proxy:Admission:MaxQueueLength=0");
        using var first = await StartStalledUploadAsync(proxy);
        using var second = await StartStalledUploadAsync(proxy);
        using var third = await StartStalledUploadAsync(proxy);
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        using var response = await proxy.PostAsync("/v1/completions", Bodies.Completion());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BodyTimeout_Returns408WithAnOpenAiError()
    {
        await using var proxy = await StartAsync("Pd:Proxy:RequestBody:TimeoutSeconds=1");
        using var upload = await StartStalledUploadAsync(proxy);

        var response = await ReadResponseAsync(upload);

        Assert.StartsWith("HTTP/1.1 408", response);
        Assert.Contains("Pd:Proxy:RequestBody:TimeoutSeconds", response);
        Assert.Contains(PdHeaders.RequestId, response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task BodySlowerThanTheMinimumRate_Returns408NotA500()
    {
        await using var proxy = await StartAsync(
            "Pd:Proxy:RequestBody:MinBytesPerSecond=5000", "Pd:Proxy:RequestBody:MinRateGraceSeconds=2");
        using var upload = await StartStalledUploadAsync(proxy);

        var response = await ReadResponseAsync(upload);

        Assert.StartsWith("HTTP/1.1 408", response);
        Assert.Contains("invalid_request_error", response);
    }

    [Fact]
    public async Task AllReadSlotsTaken_Returns429()
    {
        await using var proxy = await StartAsync("Pd:Proxy:RequestBody:MaxConcurrentReads=1");
        using var stalled = await StartStalledUploadAsync(proxy);

        // The stalled upload takes the one read slot as soon as Kestrel hands it to the app.
        HttpResponseMessage response;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        do
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200));
            response = await proxy.PostAsync("/v1/completions", Bodies.Completion());
        }
        while (response.StatusCode != HttpStatusCode.TooManyRequests && DateTime.UtcNow < deadline && DisposeAndContinue(response));

        using (response)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.True(response.Headers.Contains("Retry-After"));
        }

        static bool DisposeAndContinue(HttpResponseMessage response)
        {
            response.Dispose();
            return true;
        }
    }
}
