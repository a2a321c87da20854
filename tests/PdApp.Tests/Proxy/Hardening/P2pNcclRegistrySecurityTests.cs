using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol;
using PdApp.Protocol.P2pNccl;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.P2pNccl;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy.Hardening;

/// <summary>Only allowed, and where configured signed, registrations add instances; refusals are counted.</summary>
public sealed class P2pNcclRegistrySecurityTests
{
    private const string Secret = "registry-secret";

    private static async Task<(RoutingHost Host, RejectionRecorder Rejections)> StartAsync(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Pd:Registry:Port"] = "0",
            ["Pd:Registry:BindAddress"] = "127.0.0.1",
            ["Pd:Registry:ExpirySeconds"] = "30",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var rejections = new RejectionRecorder();
        var host = await RoutingHost.StartAsync(all, services => services.Replace(ServiceDescriptor.Singleton<IRoutingObserver>(rejections)));
        return (host, rejections);
    }

    private static async Task<DealerSocket> ConnectAsync(RoutingHost host)
    {
        var port = await host.Services.GetRequiredService<P2pNcclRegistryService>().BoundPort.WaitAsync(TimeSpan.FromSeconds(5));
        var dealer = new DealerSocket();
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect($"tcp://127.0.0.1:{port}");
        return dealer;
    }

    [Fact]
    public async Task AllowedNetworks_AddressesOutsideAreRejectedAndCounted()
    {
        var (host, rejections) = await StartAsync(("Pd:Registry:AllowedNetworks:0", "10.0.0.0/8"));
        await using var _ = host;
        using var dealer = await ConnectAsync(host);

        // An attacker announcing its own HTTP address, or a KV address outside the network.
        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Prefill, "192.168.7.7:8000", "10.0.0.1:21001").ToMsgPack());
        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Decode, "10.0.0.2:8000", "203.0.113.9:21001").ToMsgPack());
        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Decode, "10.0.0.3:8000", "10.0.0.3:21001").ToMsgPack());

        Assert.True(await Eventually.TrueAsync(() => host.FindAt("decode@10.0.0.3:8000") is not null));
        Assert.Single(host.Registry.Instances);
        Assert.Equal(["address_not_allowed", "address_not_allowed"], rejections.Reasons);
    }

    [Fact]
    public async Task AllowedHostNames_OnlyTheListedContainerNamesAreAccepted()
    {
        // Containers announce their resource name (VLLM_HOST_IP=prefill-0); the app host lists those names.
        var (host, rejections) = await StartAsync(("Pd:Registry:AllowedNetworks:0", "prefill-0"), ("Pd:Registry:AllowedNetworks:1", "decode-0"));
        await using var _ = host;
        using var dealer = await ConnectAsync(host);

        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Prefill, "intruder:8100", "intruder:21001").ToMsgPack());
        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Decode, "decode-0:8200", "127.0.0.9:22001").ToMsgPack());
        dealer.SendFrame(new P2pNcclRegistrationMessage(PdRole.Prefill, "prefill-0:8100", "prefill-0:21001").ToMsgPack());

        Assert.True(await Eventually.TrueAsync(() => host.FindAt("prefill@prefill-0:8100") is not null));
        Assert.Single(host.Registry.Instances);
        Assert.Equal(["address_not_allowed", "address_not_allowed"], rejections.Reasons);
    }

    [Fact]
    public async Task SharedSecret_OnlySignedRegistrationsAreAccepted()
    {
        var (host, rejections) = await StartAsync(("Pd:Registry:SharedSecret", Secret));
        await using var _ = host;
        using var dealer = await ConnectAsync(host);
        var unsigned = new P2pNcclRegistrationMessage(PdRole.Prefill, "127.0.0.1:20003", "127.0.0.1:21001");
        var forged = unsigned with { Hmac = unsigned.Sign("wrong-secret") };
        var good = new P2pNcclRegistrationMessage(PdRole.Decode, "127.0.0.1:20005", "127.0.0.1:22001");
        good = good with { Hmac = good.Sign(Secret) };

        dealer.SendFrame(unsigned.ToMsgPack());
        dealer.SendFrame(forged.ToMsgPack());
        dealer.SendFrame(good.ToMsgPack());

        Assert.True(await Eventually.TrueAsync(() => host.FindAt("decode@127.0.0.1:20005") is not null));
        Assert.Null(host.FindAt("prefill@127.0.0.1:20003"));
        Assert.Equal(["unsigned", "bad_signature"], rejections.Reasons);
    }

    [Fact]
    public void Signature_RoundTripsThroughMsgPack()
    {
        var message = new P2pNcclRegistrationMessage(PdRole.Prefill, "10.0.0.1:8000", "10.0.0.1:21001");
        message = message with { Hmac = message.Sign(Secret) };

        Assert.True(P2pNcclRegistrationMessage.TryParse(message.ToMsgPack(), out var parsed, out _));

        Assert.True(parsed!.IsSignedWith(Secret));
        Assert.False(parsed.IsSignedWith("other"));
        Assert.False((parsed with { ZmqAddress = "10.0.0.9:21001" }).IsSignedWith(Secret));
    }

    private sealed class RejectionRecorder : IRoutingObserver
    {
        private readonly ConcurrentQueue<string> _reasons = new();

        public IReadOnlyList<string> Reasons => [.. _reasons];

        public void InstanceEjected(UpstreamInstance instance)
        {
        }

        public void InstanceTurnedUnhealthy(UpstreamInstance instance)
        {
        }

        public void LoadScraped(UpstreamInstance instance, double seconds)
        {
        }

        public void LoadScrapeFailed(UpstreamInstance instance, string reason)
        {
        }

        public void RegistrationRejected(string reason) => _reasons.Enqueue(reason);
    }
}
