using System.Diagnostics;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PdApp.Protocol;

namespace PdApp.Tests.AppHost;

/// <summary>
/// Publishes the real app host's manifest (<c>--publisher manifest --output-path</c>) and reads it back: every
/// vLLM container must carry what a GPU deployment needs, including the runtime args Aspire leaves out.
/// </summary>
public sealed class ManifestPublishTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pdapp-manifest-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<JsonElement> PublishAsync(params string[] settings)
    {
        var path = Path.Combine(_folder, "manifest.json");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.PdApp_AppHost>(
            ["--publisher", "manifest", "--output-path", path, .. settings], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        // In publish mode the app host stops itself once the manifest is completely written.
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        var watch = Stopwatch.StartNew();
        await app.StartAsync(timeout.Token);
        await stopping.Task.WaitAsync(timeout.Token);

        Console.WriteLine($"Manifest published in {watch.ElapsedMilliseconds} ms");
        await using var stream = File.OpenRead(path);
        using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: timeout.Token);
        _sideFile = JsonDocument.Parse(await File.ReadAllTextAsync(PdApp.Hosting.Manifest.PdManifestSideFile.PathFor(path), timeout.Token)).RootElement.GetProperty("resources").Clone();
        return doc.RootElement.GetProperty("resources").Clone();
    }

    private JsonElement _sideFile;

    /// <summary>What the schema has no place for: a container's entry in the side file &lt;manifest&gt;.pd.json.</summary>
    private JsonElement Side(string resource) => _sideFile.GetProperty(resource);

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static KvTransferConfig KvConfig(JsonElement container)
    {
        var args = Strings(container.GetProperty("args"));
        return KvTransferConfig.Parse(args[Array.IndexOf(args, "--kv-transfer-config") + 1]);
    }

    [Fact]
    public async Task GuidePyNccl1P1D_ManifestCarriesImageArgsEnvMountsRuntimeArgsAndEndpoints()
    {
        var resources = await PublishAsync("--Pd:Recipe=guide-pynccl", "--Pd:HostAddress=10.0.0.5");

        var prefill = resources.GetProperty("prefill-0");
        var decode = resources.GetProperty("decode-0");
        Assert.Equal("container.v0", prefill.GetProperty("type").GetString());
        Assert.Equal("registry.cn-hangzhou.aliyuncs.com/lky-deploy/llm:vllm-server-0.7.2", prefill.GetProperty("image").GetString());
        Assert.Equal("vllm", prefill.GetProperty("entrypoint").GetString());
        Assert.Equal(["serve", "/data/dp7b/", "--port", "8100"], Strings(prefill.GetProperty("args")).Take(4));
        var p = KvConfig(prefill);
        var d = KvConfig(decode);
        Assert.Equal((KvConnectorNames.PyNccl, KvRoles.Producer, 0, 2, "10.0.0.5", 14579), (p.KvConnector, p.KvRole, p.KvRank!.Value, p.KvParallelSize!.Value, p.KvIp, p.KvPort!.Value));
        Assert.Equal((KvRoles.Consumer, 1), (d.KvRole, d.KvRank!.Value));
        Assert.Equal("0", prefill.GetProperty("env").GetProperty("CUDA_VISIBLE_DEVICES").GetString());
        Assert.Equal("1", decode.GetProperty("env").GetProperty("CUDA_VISIBLE_DEVICES").GetString());
        Assert.Equal("eth0", decode.GetProperty("env").GetProperty("NCCL_SOCKET_IFNAME").GetString());
        Assert.Equal("/data", prefill.GetProperty("bindMounts")[0].GetProperty("target").GetString());
        Assert.Equal(8200, decode.GetProperty("bindings").GetProperty("http").GetProperty("targetPort").GetInt32());
        Assert.Equal(
            ["--gpus", "\"device=1\"", "--ipc=host", "--ulimit", "memlock=-1", "--ulimit", "stack=67108864", "--privileged", "--cap-add=SYS_PTRACE", "--network=host"],
            Strings(Side("decode-0").GetProperty("runtimeArgs")));
        Assert.False(decode.TryGetProperty("runtimeArgs", out _));
        var pd = Side("decode-0").GetProperty("pd");
        Assert.Equal(("decode", KvRoles.Consumer, KvConnectorNames.PyNccl, 8200, true), (pd.GetProperty("role").GetString(), pd.GetProperty("kvRole").GetString(), pd.GetProperty("connector").GetString(), pd.GetProperty("port").GetInt32(), pd.GetProperty("hostNetwork").GetBoolean()));
        Assert.Equal([1], pd.GetProperty("gpuIds").EnumerateArray().Select(e => e.GetInt32()));

        var proxyEnv = resources.GetProperty("proxy").GetProperty("env");
        Assert.Equal(KvConnectorNames.PyNccl, proxyEnv.GetProperty("Pd__Connector").GetString());
        Assert.Equal("10.0.0.5:14579", proxyEnv.GetProperty("Pd__Instances__1__KvAddress").GetString());
    }

    [Fact]
    public async Task SharedStorage2P2D_ManifestDeclaresFourContainersOnDistinctGpusAndPorts()
    {
        var resources = await PublishAsync("--Pd:Prefill:Count=2", "--Pd:Decode:Count=2", "--Pd:UseHuggingFaceToken=true", "--Pd:UseApiKey=true");

        string[] names = ["prefill-0", "prefill-1", "decode-0", "decode-1"];
        var containers = names.Select(n => resources.GetProperty(n)).ToList();
        Assert.All(containers, c => Assert.Equal("docker.io/vllm/vllm-openai:v0.11.2", c.GetProperty("image").GetString()));
        Assert.Equal([8100, 8101, 8200, 8201], containers.Select(c => c.GetProperty("bindings").GetProperty("http").GetProperty("targetPort").GetInt32()));
        Assert.Equal(["\"device=0\"", "\"device=1\"", "\"device=2\"", "\"device=3\""], names.Select(n => Strings(Side(n).GetProperty("runtimeArgs"))[1]));
        Assert.Equal(
            [KvRoles.Producer, KvRoles.Producer, KvRoles.Consumer, KvRoles.Consumer],
            containers.Select(c => KvConfig(c).KvRole));
        Assert.All(containers, c => Assert.Equal("/data/models/pd_local_storage", KvConfig(c).KvConnectorExtraConfig!["shared_storage_path"]!.GetValue<string>()));

        // Secrets are parameters, never literals.
        Assert.All(containers, c => Assert.Equal("{hf-token.value}", c.GetProperty("env").GetProperty("HF_TOKEN").GetString()));
        var args = Strings(containers[0].GetProperty("args"));
        Assert.Equal("{vllm-api-key.value}", args[Array.IndexOf(args, "--api-key") + 1]);
        Assert.True(resources.GetProperty("hf-token").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());

        var proxyEnv = resources.GetProperty("proxy").GetProperty("env");
        for (var i = 0; i < names.Length; i++)
        {
            Assert.Equal(names[i], proxyEnv.GetProperty($"Pd__Instances__{i}__Name").GetString());
            Assert.Equal($"http://{names[i]}", proxyEnv.GetProperty($"Pd__Instances__{i}__Address").GetString());
            Assert.Equal($"{{{names[i]}.bindings.http.url}}", proxyEnv.GetProperty($"services__{names[i]}__http__0").GetString());
        }

        Assert.Equal(8000, resources.GetProperty("proxy").GetProperty("bindings").GetProperty("http").GetProperty("port").GetInt32());
    }

    [Fact]
    public async Task PdProxySettings_ManifestCarriesThemInTheProxyProjectsEnvironment()
    {
        var resources = await PublishAsync("--Pd:Proxy:Timeouts:DecodeIdleSeconds=42", "--Pd:UseClientApiKey=true");

        var proxy = resources.GetProperty("proxy");
        Assert.Equal("project.v0", proxy.GetProperty("type").GetString());
        Assert.EndsWith("PdApp.Proxy.csproj", proxy.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.Equal("42", proxy.GetProperty("env").GetProperty("Pd__Proxy__Timeouts__DecodeIdleSeconds").GetString());

        // Keys stay secret parameters next to the forwarded settings.
        Assert.Equal("{pdapp-api-key.value}", proxy.GetProperty("env").GetProperty("Pd__ApiKey").GetString());
    }
}
