using System.Net;
using Microsoft.Extensions.ServiceDiscovery;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Discovery;

namespace PdApp.Tests.Proxy.Routing;

public sealed class AddressParsingTests
{
    [Theory]
    [InlineData("10.0.0.1:8100", true)]
    [InlineData("prefill-0.pdapp.svc:8100", true)]
    [InlineData("[fd00::1]:21001", true)]
    [InlineData("fd00::1:21001", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("10.0.0.1:", false)]
    [InlineData("10.0.0.1:0", false)]
    [InlineData("10.0.0.1:65536", false)]
    [InlineData(":8100", false)]
    [InlineData("10.0.0.1:+80", false)]
    [InlineData("", false)]
    public void HostPort_AcceptsOnlyHostColonPort(string value, bool valid)
    {
        Assert.Equal(valid, HostPort.TryParse(value, out _, out _));
    }

    [Fact]
    public void HostPort_BuildsHttpBaseAddresses()
    {
        Assert.True(HostPort.TryCreateHttpUri("[fd00::1]:8100", out var uri));
        Assert.Equal("http://[fd00::1]:8100/", uri.ToString());
    }

    [Theory]
    [InlineData("http://prefill-0", "http://127.0.0.1:8100/")]
    [InlineData("https+http://prefill-0", "https://127.0.0.1:8100/")]
    [InlineData("http://prefill-0/vllm/", "http://127.0.0.1:8100/vllm/")]
    public void ResolvedIpEndpoint_KeepsTheConfiguredSchemeAndPath(string configured, string expected)
    {
        var endpoint = ServiceEndpoint.Create(new IPEndPoint(IPAddress.Loopback, 8100));

        Assert.Equal(new Uri(expected), EndpointUris.ToBaseUri(endpoint, new Uri(configured)));
    }

    [Fact]
    public void ResolvedIpv6AndDnsEndpoints_BecomeBaseAddresses()
    {
        var configured = new Uri("http://decode-0");

        Assert.Equal(new Uri("http://[::1]:8200/"), EndpointUris.ToBaseUri(ServiceEndpoint.Create(new IPEndPoint(IPAddress.IPv6Loopback, 8200)), configured));
        Assert.Equal(new Uri("http://decode-0/"), EndpointUris.ToBaseUri(ServiceEndpoint.Create(new DnsEndPoint("decode-0", 0)), configured));
        Assert.Equal(new Uri("http://decode-0.local:8200/"), EndpointUris.ToBaseUri(ServiceEndpoint.Create(new DnsEndPoint("decode-0.local", 8200)), configured));
    }
}
