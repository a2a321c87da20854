using PdApp.Hosting.Deployment;
using PdApp.Hosting.Deployment.Compose;

namespace PdApp.Tests.Deployment;

/// <summary>The proxy's image can be built from the published outputs and is never an implicit <c>latest</c>.</summary>
public sealed class ProxyImageTests
{
    [Fact]
    public async Task Compose_BuildsTheProxyFromTheRepositorysDockerfileUnderAFixedTag()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName);
        var proxy = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName)).Service("proxy");

        Assert.Equal(DeploymentDefaults.ProxyImage, proxy.Scalar("image"));
        Assert.DoesNotContain(":latest", proxy.Scalar("image"), StringComparison.Ordinal);
        Assert.Equal(PdComposeOptions.ProxyDockerfile, proxy.Scalar("build", "dockerfile"));
        Assert.Equal("build", proxy.Scalar("pull_policy"));

        // The context is relative to the compose file and holds the Dockerfile and the proxy's sources.
        var context = Path.GetFullPath(Path.Combine(published.Directory, proxy.Scalar("build", "context")));
        Assert.True(File.Exists(Path.Combine(context, PdComposeOptions.ProxyDockerfile)), context);
        Assert.True(File.Exists(Path.Combine(context, "src", "PdApp.Proxy", "PdApp.Proxy.csproj")), context);
    }

    [Fact]
    public async Task Compose_WithoutSources_LeavesBuildOutAndPullsTheImage()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, "--Pd:Compose:ProxySourceRoot=", "--Pd:Compose:ProxyImage=registry.example/pd/proxy:1.2");
        var proxy = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName)).Service("proxy");

        Assert.False(proxy.Has("build"));
        Assert.Equal("registry.example/pd/proxy:1.2", proxy.Scalar("image"));
    }
}
