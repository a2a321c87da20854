using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Proxy;
using PdApp.Simulator;

namespace PdApp.Bench.Micro;

/// <summary>
/// One streamed completion end to end over loopback, through the proxy (prefill + SSE relay of the
/// decode) against the client doing the same two calls itself. Simulators run with zero
/// latencies, so the difference is the proxy's own cost per request and per relayed chunk.
/// </summary>
[MemoryDiagnoser]
public class SseRelayBenchmarks
{
    private readonly List<WebApplication> _apps = [];
    private HttpClient _http = new();
    private DirectoryInfo? _storage;
    private Uri _prefill = null!;
    private Uri _decode = null!;
    private Uri _proxy = null!;
    private byte[] _streamBody = [];
    private byte[] _prefillBody = [];

    /// <summary>Tokens streamed per request.</summary>
    [Params(16, 256)]
    public int Tokens { get; set; }

    /// <summary>Starts a prefill and a decode simulator (SharedStorageConnector) and the proxy in front of them.</summary>
    [GlobalSetup]
    public async Task SetupAsync()
    {
        _storage = Directory.CreateTempSubdirectory("pdapp-micro-kv-");
        _prefill = await StartSimulatorAsync("kv_producer");
        _decode = await StartSimulatorAsync("kv_consumer");
        var proxy = ProxyApp.Create(
        [
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            "--Pd:Connector=SharedStorageConnector",
            "--Pd:Instances:0:Name=prefill-0", "--Pd:Instances:0:Role=Prefill", $"--Pd:Instances:0:Address={_prefill}",
            "--Pd:Instances:1:Name=decode-0", "--Pd:Instances:1:Role=Decode", $"--Pd:Instances:1:Address={_decode}",
        ]);
        await proxy.StartAsync();
        _apps.Add(proxy);
        _proxy = Address(proxy);
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 });
        var prompt = string.Join(' ', Enumerable.Repeat("the quick brown fox", 32));
        _streamBody = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            model = "m", prompt, max_tokens = Tokens, ignore_eos = true, stream = true, stream_options = new { include_usage = true },
        }));
        _prefillBody = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { model = "m", prompt, max_tokens = 1, ignore_eos = true, stream = false }));
    }

    /// <summary>Stops everything and removes the KV folder.</summary>
    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _http.Dispose();
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        _storage?.Delete(recursive: true);
    }

    /// <summary>The client prefills then streams the decode itself.</summary>
    [Benchmark(Baseline = true)]
    public async Task<long> Direct()
    {
        using (var prefill = await PostAsync(_prefill, _prefillBody))
        {
            await prefill.Content.ReadAsByteArrayAsync();
        }

        return await DrainAsync(_decode, _streamBody);
    }

    /// <summary>The same request through the proxy.</summary>
    [Benchmark]
    public Task<long> ThroughProxy() => DrainAsync(_proxy, _streamBody);

    private async Task<long> DrainAsync(Uri baseUrl, byte[] body)
    {
        using var response = await PostAsync(baseUrl, body);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private async Task<HttpResponseMessage> PostAsync(Uri baseUrl, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var response = await _http.PostAsync(new Uri(baseUrl, "v1/completions"), content);
        response.EnsureSuccessStatusCode();
        return response;
    }

    private async Task<Uri> StartSimulatorAsync(string role)
    {
        var config = JsonSerializer.Serialize(new
        {
            kv_connector = "SharedStorageConnector",
            kv_role = role,
            kv_connector_extra_config = new { shared_storage_path = _storage!.FullName },
        });
        var app = SimulatorApp.Create(["serve", "m", "--host", "127.0.0.1", "--port", "0", "--time-to-first-token", "0", "--inter-token-latency", "0", "--kv-transfer-config", config]);
        await app.StartAsync();
        _apps.Add(app);
        return SimulatorApp.GetBaseAddress(app);
    }

    private static Uri Address(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.TrimEnd('/') + "/");
    }
}
