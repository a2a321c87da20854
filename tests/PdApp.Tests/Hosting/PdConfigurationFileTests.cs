using Aspire.Hosting;
using Microsoft.Extensions.Configuration;
using PdApp.Hosting.Topology;
using PdApp.Protocol;

namespace PdApp.Tests.Hosting;

/// <summary>The shipped examples (src/PdApp.AppHost/examples) and the <c>--PdConfig</c> file switch.</summary>
public sealed class PdConfigurationFileTests
{
    private static string ExamplesFolder
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "PdApp.sln")))
            {
                folder = folder.Parent;
            }

            return Path.Combine(folder!.FullName, "src", "PdApp.AppHost", "examples");
        }
    }

    [Theory]
    [InlineData("shared-storage.json", KvConnectorNames.SharedStorage)]
    [InlineData("pynccl.json", KvConnectorNames.PyNccl)]
    [InlineData("p2pnccl.json", KvConnectorNames.P2pNccl)]
    [InlineData("nixl.json", KvConnectorNames.Nixl)]
    [InlineData("lmcache.json", KvConnectorNames.LMCacheV1)]
    [InlineData("multi.json", KvConnectorNames.Multi)]
    [InlineData("external.json", KvConnectorNames.Nixl)]
    [InlineData("kv-aware.json", KvConnectorNames.Nixl)]
    public void Example_IsAValidTopologyForItsConnector(string file, string connector)
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(ExamplesFolder, file)).Build();

        var options = PdOptionsLoader.Load(configuration);

        Assert.Equal(connector, options.Connector);
    }

    [Fact]
    public void PdConfig_LoadsTheFileAndTheCommandLineStillWins()
    {
        string[] args = ["--PdConfig", Path.Combine(ExamplesFolder, "nixl.json"), "--Pd:Decode:Count=3"];
        var builder = AppModel.CreateBuilder(args);

        builder.AddPdConfigurationFile(args);
        var options = builder.GetPdOptions();

        Assert.Equal(KvConnectorNames.Nixl, options.Connector);
        Assert.Equal(2, options.Prefill.Count);
        Assert.Equal(3, options.Decode.Count);
    }

    [Fact]
    public void PdConfig_MissingFile_NamesTheSetting()
    {
        string[] args = ["--PdConfig", "no-such-file.json"];
        var builder = AppModel.CreateBuilder(args);

        var ex = Assert.Throws<FileNotFoundException>(() => builder.AddPdConfigurationFile(args));

        Assert.Contains("PdConfig", ex.Message);
    }
}
