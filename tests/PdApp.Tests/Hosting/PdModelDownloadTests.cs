using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PdApp.Hosting.Topology;

namespace PdApp.Tests.Hosting;

/// <summary><c>Pd:ModelDownload</c>: the seed's model download step, a container the vLLM engines wait for.</summary>
public sealed class PdModelDownloadTests
{
    private static PdOptions Load(params (string Key, string Value)[] settings) =>
        PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    private static IDistributedApplicationBuilder Declare(PdBackend backend, params (string Key, string Value)[] settings)
    {
        var builder = AppModel.CreateBuilder();
        builder.AddPdInstances<Projects.PdApp_Simulator>(Load(settings), new PdBackendDecision(backend, "chosen by the test"));
        return builder;
    }

    [Fact]
    public async Task HuggingFace_DownloadsIntoTheModelFolder_AndEveryEngineWaitsForIt()
    {
        var builder = Declare(
            PdBackend.Vllm, ("Pd:ModelDownload:Source", "HuggingFace"), ("Pd:ModelDownload:Repository", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"));

        var download = Assert.IsType<ContainerResource>(builder.Resources.Single(r => r.Name == PdModelDownload.ResourceName), exactMatch: false);
        var (args, _) = await AppModel.EvaluateAsync(download);

        Assert.Equal("python3", download.Entrypoint);
        Assert.Equal(["deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "/data/dp7b/"], args.Skip(2));
        Assert.Contains("Offline", args[1], StringComparison.Ordinal);
        Assert.Contains(download.Annotations.OfType<ContainerMountAnnotation>(), m => m.Target == "/data" && m.Source == "/data");
        foreach (var engine in new[] { "prefill-0", "decode-0" })
        {
            var wait = Assert.Single(builder.Resources.Single(r => r.Name == engine).Annotations.OfType<WaitAnnotation>());
            Assert.Equal((download, WaitType.WaitForCompletion), (wait.Resource, wait.WaitType));
        }
    }

    [Fact]
    public async Task ModelScope_RunsTheSeedsCommandIntoTheModelFolder()
    {
        var builder = Declare(
            PdBackend.Vllm, ("Pd:ModelDownload:Source", "ModelScope"), ("Pd:ModelDownload:Repository", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"));

        var download = (ContainerResource)builder.Resources.Single(r => r.Name == PdModelDownload.ResourceName);
        var (args, _) = await AppModel.EvaluateAsync(download);

        Assert.Equal("sh", download.Entrypoint);
        Assert.Contains("modelscope download --model \"$1\" --local_dir \"$2\"", args[1], StringComparison.Ordinal);
        Assert.Equal(["model-download", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "/data/dp7b/"], args.Skip(2));
    }

    [Fact]
    public void NoDownload_ByDefault_NorForTheSimulator()
    {
        Assert.DoesNotContain(Declare(PdBackend.Vllm).Resources, r => r.Name == PdModelDownload.ResourceName);
        Assert.DoesNotContain(
            Declare(PdBackend.Simulator, ("Pd:ModelDownload:Source", "HuggingFace"), ("Pd:ModelDownload:Repository", "org/model")).Resources,
            r => r.Name == PdModelDownload.ResourceName);
    }

    [Theory]
    [InlineData("HuggingFace", "/data/dp7b/", null, null, "Pd:ModelDownload:Repository is required")]
    [InlineData("HuggingFace", "/models/dp7b/", "org/model", null, "must lie inside the /data mount")]
    [InlineData("ModelScope", "org/model", null, null, "set Pd:Model to a path under /data")]
    [InlineData("HuggingFace", "org/model", null, null, "set Pd:HuggingFaceCachePath")]
    public void InvalidCombinations_AreRefused_NamingTheSetting(string source, string model, string? repository, string? cache, string expected)
    {
        var settings = new List<(string, string)> { ("Pd:ModelDownload:Source", source), ("Pd:Model", model) };
        if (repository is not null)
        {
            settings.Add(("Pd:ModelDownload:Repository", repository));
        }

        if (cache is not null)
        {
            settings.Add(("Pd:HuggingFaceCachePath", cache));
        }

        Assert.Contains(expected, Assert.Throws<OptionsValidationException>(() => Load([.. settings])).Message);
    }

    [Fact]
    public void HubIdModel_WithACache_DownloadsThatId()
    {
        var options = Load(("Pd:ModelDownload:Source", "HuggingFace"), ("Pd:Model", "Qwen/Qwen3-0.6B"), ("Pd:HuggingFaceCachePath", "/tmp/hf"));

        Assert.Equal("Qwen/Qwen3-0.6B", PdModelDownload.Repository(options));
        Assert.Null(PdModelDownload.TargetDirectory(options));
    }
}
