using PdApp.Proxy.Security;

namespace PdApp.Tests.Proxy;

/// <summary>Keys are compared as SHA-256 digests: equal keys match, any other length or content does not.</summary>
public sealed class ApiKeyDigestTests
{
    [Theory]
    [InlineData("secret", true)]
    [InlineData("secret-and-more", false)]
    [InlineData("secreT", false)]
    [InlineData("", false)]
    [InlineData("s", false)]
    public void Matches_OnlyTheSameKey(string presented, bool expected) =>
        Assert.Equal(expected, ApiKeyDigest.Of("secret")!.Matches(ApiKeyDigest.Hash(presented)));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void NoKeyConfigured_HasNoDigest(string? key) => Assert.Null(ApiKeyDigest.Of(key));
}
