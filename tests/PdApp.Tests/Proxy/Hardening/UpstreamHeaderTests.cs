using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Pipeline;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>Both instances get the same, explicit set of client headers; cookies and the client's key never leave the proxy.</summary>
public sealed class UpstreamHeaderTests
{
    [Fact]
    public async Task ClientHeaders_OnlyTheAllowlistReachesPrefillAndDecode()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);

        var result = await harness.RunAsync(Bodies.Completion(), configure: request =>
        {
            request.Headers.Cookie = "session=secret";
            request.Headers.Authorization = "Bearer client-key";
            request.Headers["X-Internal-Token"] = "t0p";
            request.Headers["X-Forwarded-For"] = "10.1.2.3";
            request.Headers.Accept = "application/json";
            request.Headers.UserAgent = "pdapp-test/1.0";
            request.Headers["Content-Encoding"] = "identity";
        });

        Assert.Equal(200, result.Status);
        Assert.Equal(2, result.Calls.Count);
        Assert.All(result.Calls, call =>
        {
            Assert.False(call.Headers.ContainsKey("cookie"), call.Instance);
            Assert.False(call.Headers.ContainsKey("authorization"), call.Instance);
            Assert.False(call.Headers.ContainsKey("x-internal-token"), call.Instance);
            Assert.False(call.Headers.ContainsKey("x-forwarded-for"), call.Instance);
            Assert.False(call.Headers.ContainsKey("content-encoding"), call.Instance);
            Assert.Equal("application/json", call.Headers["accept"]);
            Assert.Equal("pdapp-test/1.0", call.Headers["user-agent"]);
        });
    }

    [Fact]
    public async Task UpstreamBodies_AreDescribedByTheirOwnTypeAndLength_NotByTheClientsFraming()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);

        // The client's framing and content headers describe its own body, not the ones the proxy sends.
        var result = await harness.RunAsync(Bodies.Completion(), configure: request =>
        {
            request.Headers.TransferEncoding = "chunked";
            request.Headers.ContentLanguage = "en";
        });

        Assert.Equal(200, result.Status);
        Assert.Equal(2, result.Calls.Count);
        Assert.All(result.Calls, call =>
        {
            Assert.Equal("application/json", call.Headers["content-type"]);
            Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(call.Body).ToString(System.Globalization.CultureInfo.InvariantCulture), call.Headers["content-length"]);
            Assert.False(call.Headers.ContainsKey("transfer-encoding"), call.Instance);
            Assert.False(call.Headers.ContainsKey("content-language"), call.Instance);
        });
    }
}
