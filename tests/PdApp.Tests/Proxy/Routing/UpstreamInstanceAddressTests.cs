using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Tests.Proxy.Routing;

/// <summary>An instance's request addresses are made once per path and are the same as joining base and path.</summary>
public sealed class UpstreamInstanceAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8200/", "http://127.0.0.1:8200")]
    [InlineData("http://decode-0:8200", "http://decode-0:8200")]
    [InlineData("http://10.0.0.5:8000/engine/", "http://10.0.0.5:8000/engine")]
    public void AddressOf_JoinsThePrefixAndThePath_OnceForEveryCall(string baseAddress, string prefix)
    {
        var instance = new UpstreamInstance("decode-0", PdRole.Decode, new Uri(baseAddress), InstanceSource.Configuration);

        var completions = instance.AddressOf(OpenAiRoutes.CompletionsPath);
        var chat = instance.AddressOf(OpenAiRoutes.ChatCompletionsPath);

        Assert.Equal(prefix, instance.DestinationPrefix);
        Assert.Equal(new Uri(prefix + OpenAiRoutes.CompletionsPath), completions);
        Assert.Equal(new Uri(prefix + OpenAiRoutes.ChatCompletionsPath), chat);
        Assert.Same(completions, instance.AddressOf(OpenAiRoutes.CompletionsPath));
        Assert.Same(chat, instance.AddressOf(OpenAiRoutes.ChatCompletionsPath));
    }
}
