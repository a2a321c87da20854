using PdApp.Protocol;
using PdApp.Proxy.Routing.KvCache;

namespace PdApp.Tests.Proxy.KvCache;

/// <summary>Where the indexer reads an instance's KV events: listed endpoints, else its role's ports, else the section's.</summary>
public sealed class KvEventEndpointsTests
{
    private static readonly KvCacheOptions Options = new()
    {
        EventsPort = 5557,
        ReplayPort = 0,
        Decode = new KvEventsRolePorts { EventsPort = 5561, ReplayPort = 5562 },
        Endpoints = new(StringComparer.Ordinal) { ["decode-0"] = new KvEventsEndpointOptions { Endpoint = "tcp://127.0.0.1:47557" } },
    };

    [Fact]
    public void ListedInstance_UsesItsOwnEndpoints()
    {
        Assert.Equal(("tcp://127.0.0.1:47557", null), Options.EndpointsFor("decode-0", PdRole.Decode, "10.2.0.1"));
    }

    [Fact]
    public void DiscoveredInstance_UsesItsRolesPortsAtItsHost()
    {
        Assert.Equal(("tcp://10.2.0.7:5561", "tcp://10.2.0.7:5562"), Options.EndpointsFor("10.2.0.7:8200", PdRole.Decode, "10.2.0.7"));
    }

    [Fact]
    public void RoleWithoutPorts_UsesTheSectionsPorts()
    {
        Assert.Equal(("tcp://10.1.0.3:5557", null), Options.EndpointsFor("10.1.0.3:8100", PdRole.Prefill, "10.1.0.3"));
    }

    [Fact]
    public void NegativeRolePort_IsRefusedNamingTheSetting()
    {
        var result = new KvCacheOptionsValidator().Validate(null, new KvCacheOptions { Prefill = new KvEventsRolePorts { ReplayPort = -1 } });

        Assert.Contains("Pd:Proxy:KvCache:Prefill:ReplayPort", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    public void InvalidRequestWeight_IsRefusedNamingTheSetting(double weight)
    {
        var result = new KvCacheOptionsValidator().Validate(null, new KvCacheOptions { RequestWeight = weight });

        Assert.Contains("Pd:Proxy:KvCache:RequestWeight", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    public void InvalidHolderLoadFactor_IsRefusedNamingTheSetting(double factor)
    {
        var result = new KvCacheOptionsValidator().Validate(null, new KvCacheOptions { HolderLoadFactor = factor });

        Assert.Contains("Pd:Proxy:KvCache:HolderLoadFactor", result.FailureMessage, StringComparison.Ordinal);
    }
}
