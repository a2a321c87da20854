using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PdApp.Tests.AppHost;

/// <summary>
/// Starts the real app host: with the embedded simulator backend (what <c>dotnet run</c> does on a machine
/// without GPUs) up to every instance healthy, and with vLLM containers that cannot run, where the proxy must still start.
/// </summary>
public sealed class AppHostStartTests
{
    [Fact]
    public async Task SimulatorBackend_StartsProxyAndEveryInstanceHealthy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var watch = Stopwatch.StartNew();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["Pd:Backend=simulator", "Pd:Prefill:Count=1", "Pd:Decode:Count=2"], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);

        await app.ResourceNotifications.WaitForResourceHealthyAsync("proxy", timeout.Token);
        foreach (var name in new[] { "prefill-0", "decode-0", "decode-1" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }

        Console.WriteLine($"App host healthy after {watch.ElapsedMilliseconds} ms");

        // The simulator serves the model path as its name, as vLLM does without --served-model-name.
        using var client = app.CreateHttpClient("decode-1", "http");
        using var models = await client.GetFromJsonAsync<JsonDocument>("/v1/models", timeout.Token);
        Assert.Equal("/data/dp7b/", models!.RootElement.GetProperty("data")[0].GetProperty("id").GetString());

        // The vLLM PD guide's own test request, unchanged, through the proxy: prefill then decode,
        // and decode found the KV that prefill stored (the prompt spans more than one KV block).
        using var proxy = app.CreateHttpClient("proxy", "http");
        using var seed = new StringContent(
            """{"model": "/data/dp7b/", "prompt": "San Francisco is a city in northern California, known for its hills, its fog, the Golden Gate Bridge and", "temperature": 0.7, "max_tokens": 500}""",
            System.Text.Encoding.UTF8,
            "application/json");
        using var answer = await proxy.PostAsync("/v1/completions", seed, timeout.Token);
        var body = await answer.Content.ReadAsStringAsync(timeout.Token);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, body);
        using var completion = JsonDocument.Parse(body);
        Assert.False(string.IsNullOrWhiteSpace(completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.True(completion.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
        Assert.Equal("prefill-0", answer.Headers.GetValues(PdApp.Protocol.PdHeaders.ProxyPrefillInstance).Single());
        Assert.StartsWith("decode-", answer.Headers.GetValues(PdApp.Protocol.PdHeaders.ProxyDecodeInstance).Single(), StringComparison.Ordinal);
        Assert.Equal(PdApp.Protocol.KvTransferOutcomes.Hit, answer.Headers.GetValues(PdApp.Protocol.PdHeaders.SimulatorKvTransfer).Single());

        // The dashboard shows each instance's PD role, connector and the backend decision.
        var snapshot = await app.ResourceNotifications.WaitForResourceAsync(
            "decode-1",
            e => e.Snapshot.Properties.Any(p => p.Name == "pd.role") && e.Snapshot.Urls.Any(u => u.Url.EndsWith("/metrics", StringComparison.Ordinal)),
            timeout.Token);
        Assert.Contains(snapshot.Snapshot.Urls, u => u.Url.EndsWith("/v1/models", StringComparison.Ordinal));

        // No link is the server's root (a 404), and metrics are linked once.
        Assert.All(snapshot.Snapshot.Urls, u => Assert.NotEqual("/", new Uri(u.Url).AbsolutePath));
        Assert.Single(snapshot.Snapshot.Urls, u => u.Url.EndsWith("/metrics", StringComparison.Ordinal));
        Assert.All(
            snapshot.Snapshot.Properties.Where(p => p.Name is "pd.role" or "pd.backend" or "pd.gpus"),
            p => Assert.True(p.IsHighlighted, p.Name));
        var properties = snapshot.Snapshot.Properties.ToDictionary(p => p.Name, p => p.Value?.ToString());
        Assert.Equal("decode", properties["pd.role"]);
        Assert.Equal("SharedStorageConnector", properties["pd.connector"]);
        Assert.Equal("simulator", properties["pd.backend"]);
        Assert.Contains("Pd:Backend is simulator", properties["pd.backend.reason"]);
    }

    [Fact]
    public async Task PdProxySetting_GivenToTheAppHost_ReachesTheRunningProxy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["Pd:Backend=simulator", "Pd:Proxy:MaxRequestBodyBytes=512"], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync(PdApp.Hosting.PdProxyResource.DefaultName, timeout.Token);
        using var proxy = app.CreateHttpClient(PdApp.Hosting.PdProxyResource.DefaultName, PdApp.Hosting.PdProxyResource.HttpEndpointName);

        // Under the app host's limit: served through prefill and decode.
        using var small = await proxy.PostAsync("/v1/completions", Json("""{"model": "/data/dp7b/", "prompt": "San Francisco is a", "max_tokens": 5}"""), timeout.Token);
        Assert.True(small.StatusCode == HttpStatusCode.OK, await small.Content.ReadAsStringAsync(timeout.Token));

        // Over it (the proxy's own default is 16 MiB): refused, naming the value the app host gave.
        var prompt = new string('a', 1024);
        using var large = await proxy.PostAsync("/v1/completions", Json($$"""{"model": "/data/dp7b/", "prompt": "{{prompt}}", "max_tokens": 5}"""), timeout.Token);
        var error = await large.Content.ReadAsStringAsync(timeout.Token);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Contains("512 bytes", error, StringComparison.Ordinal);

        static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
    }

    [Fact]
    public async Task SimulatorBackend_KvAwarePolicy_EnginesPublishKvEventsTheProxyIndexesAndRoutesOn()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));

        // An unusual base port keeps clear of anything else on the machine that speaks vLLM's default 5557, and
        // stays below Linux's ephemeral range (32768-60999), where any outgoing connection may hold it for a moment.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["Pd:Backend=simulator", "Pd:Prefill:Count=2", "Pd:Proxy:Balancing:Prefill=KvAware", "Pd:KvEvents:BasePort=25557"], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);
        foreach (var name in new[] { "proxy", "prefill-0", "prefill-1", "decode-0" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }

        // The dashboard shows each engine's event endpoints and ports.
        var prefill1 = await app.ResourceNotifications.WaitForResourceAsync(
            "prefill-1", e => e.Snapshot.Urls.Any(u => u.Name == PdApp.Hosting.VllmResource.KvEventsEndpointName), timeout.Token);
        Assert.Contains(prefill1.Snapshot.Urls, u => u.Url.StartsWith("tcp://", StringComparison.Ordinal) && u.Url.EndsWith(":25559", StringComparison.Ordinal));
        Assert.Equal("25559 (replay 25560)", prefill1.Snapshot.Properties.Single(p => p.Name == "pd.kv-events").Value?.ToString());

        // A prompt of many KV blocks: its prefill stores blocks, whose events reach the proxy's index. The proxy's
        // /metrics wants the admin key the dashboard's commands use.
        using var proxy = app.CreateHttpClient("proxy", "http");
        var adminKey = await builder.Resources.OfType<ParameterResource>()
            .Single(p => p.Name == PdTopologyBuilderExtensions.AdminApiKeyParameterName)
            .GetValueAsync(timeout.Token);
        proxy.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);
        var prompt = string.Concat(Enumerable.Repeat("The harbour of Lisbon is wide and the trams climb the hills slowly. ", 12));
        var first = await CompleteAsync(proxy, prompt, timeout.Token);
        Assert.True(
            await PdApp.Tests.Proxy.Routing.Eventually.TrueAsync(async () => Gauge(await proxy.GetStringAsync("/metrics", timeout.Token), "pdapp_proxy_kvcache_index_blocks") > 0, TimeSpan.FromSeconds(30)),
            "The proxy's KV cache index received no blocks from the engines' events.");

        // The same prompt again goes to the prefill instance holding it, decided on the cache.
        var second = await CompleteAsync(proxy, prompt, timeout.Token);
        Assert.Equal(first, second);
        // The Prometheus exporter may answer a scrape from its short response cache: read until the decision shows.
        List<PdApp.Proxy.Routing.Load.PrometheusSample> decisions = [];
        var routedOnCache = await PdApp.Tests.Proxy.Routing.Eventually.TrueAsync(
            async () =>
            {
                decisions = [.. Samples(await proxy.GetStringAsync("/metrics", timeout.Token), "pdapp_proxy_kvcache_decisions_total")];
                return decisions.Any(sample => sample.Labels.Contains(new("role", "prefill")) && sample.Labels.Contains(new("outcome", "cache_hit")) && sample.Value >= 1);
            },
            TimeSpan.FromSeconds(10));
        Assert.True(
            routedOnCache,
            "The second request was not routed on the KV cache; decisions: "
            + string.Join("; ", decisions.Select(sample => string.Join(",", sample.Labels.Select(l => $"{l.Key}={l.Value}")) + " " + sample.Value)));

        static async Task<string> CompleteAsync(HttpClient proxy, string prompt, CancellationToken cancellationToken)
        {
            using var content = new StringContent(
                JsonSerializer.Serialize(new { model = "/data/dp7b/", prompt, max_tokens = 4 }), System.Text.Encoding.UTF8, "application/json");
            using var answer = await proxy.PostAsync("/v1/completions", content, cancellationToken);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync(cancellationToken));
            return answer.Headers.GetValues(PdApp.Protocol.PdHeaders.ProxyPrefillInstance).Single();
        }

        static IEnumerable<PdApp.Proxy.Routing.Load.PrometheusSample> Samples(string metrics, string name) =>
            PdApp.Proxy.Routing.Load.PrometheusTextParser.Parse(metrics).Samples.Where(sample => sample.Name == name);

        static double Gauge(string metrics, string name) => Samples(metrics, name).Sum(sample => sample.Value);
    }

    [Fact]
    public async Task AutoBackend_WithoutGpuContainers_DeclaresSimulatorProjects()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(["Pd:Backend=auto"], timeout.Token);

        // This test machine has no container engine; a GPU host would get vLLM containers instead.
        var expected = await new PdApp.Hosting.Topology.DockerNvidiaProbe().ProbeAsync(timeout.Token);
        var prefill = builder.Resources.Single(r => r.Name == "prefill-0");
        Assert.Equal(expected.Available, prefill is PdApp.Hosting.VllmResource);
        Assert.Equal(!expected.Available, prefill is ProjectResource);
        Assert.Contains(builder.Resources, r => r.Name == "proxy" && r is ProjectResource);
    }

    [Fact]
    public async Task VllmBackend_ProxyRunsWithoutWaitingForTheContainers_AndReportsNotReady()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        // The image points at an unreachable local registry, so a machine with Docker fails the pull at once
        // instead of downloading vLLM; without a container engine the containers never start at all.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["Pd:Backend=vllm", "Pd:CheckGpuRuntime=false", "Pd:Image=localhost:1/pdapp/absent:test", "DcpPublisher:ContainerRuntimeInitializationTimeout=00:00:00"],
            timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        await app.StartAsync(timeout.Token);

        // The proxy starts at once (no WaitFor on engines that load models for minutes) ...
        await app.ResourceNotifications.WaitForResourceAsync("proxy", KnownResourceStates.Running, timeout.Token);
        using var client = app.CreateHttpClient("proxy", "http");
        HttpResponseMessage alive;
        while (true)
        {
            try
            {
                alive = await client.GetAsync("/alive", timeout.Token);
                break;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(250, timeout.Token);
            }
        }

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

        // ... and stays not ready, naming what is missing, while no engine is healthy.
        var health = await client.GetAsync("/health", timeout.Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);

        Assert.IsType<PdApp.Hosting.VllmResource>(builder.Resources.Single(r => r.Name == "prefill-0"));
        Assert.True(app.ResourceNotifications.TryGetCurrentState("prefill-0", out var prefill));
        Assert.NotEqual(HealthStatus.Healthy, prefill.Snapshot.HealthStatus);
    }
}
