using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using PdApp.Hosting.Topology;
using PdApp.Tests.AppHost;

namespace PdApp.Tests.Hosting;

/// <summary>The app host refuses to start when a port the topology needs is taken, naming it, its holder and the setting.</summary>
public sealed class PdPortPreflightTests
{
    private static PdOptions Load(params (string Key, string Value)[] settings) =>
        PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void SimulatorBackend_ChecksEveryPortItBindsHere()
    {
        var claims = PdPortPreflight.HostClaims(Load(("Pd:Connector", "P2pNcclConnector")), PdBackend.Simulator);

        Assert.Equal(
            [(8000, "Pd:ProxyPort"), (30001, "Pd:RegistryPort"), (8100, "Pd:Prefill:BasePort"), (21001, "Pd:P2pNccl:PrefillKvBasePort"), (8200, "Pd:Decode:BasePort"), (22001, "Pd:P2pNccl:DecodeKvBasePort")],
            claims.Select(c => (c.Port, c.Setting)));
    }

    [Fact]
    public void VllmContainersOnABridge_CheckOnlyPublishedPorts_HostNetworkChecksAll()
    {
        var bridge = PdPortPreflight.HostClaims(Load(("Pd:Connector", "NixlConnector")), PdBackend.Vllm);
        var host = PdPortPreflight.HostClaims(Load(("Pd:Connector", "NixlConnector"), ("Pd:HostNetwork", "true")), PdBackend.Vllm);

        Assert.Equal([8000, 8100, 8200], bridge.Select(c => c.Port));
        Assert.Contains(host, c => c.Setting == "Pd:Nixl:SideChannelBasePort");
    }

    [Fact]
    public void TakenPort_IsReportedWithItsHolderAndTheSettingToChange()
    {
        var claims = PdPortPreflight.HostClaims(Load(), PdBackend.Simulator);

        var failures = PdPortPreflight.FindPortsInUse(claims, isInUse: port => port == 8200, describeHolder: _ => "python3 (pid 4242)");

        var failure = Assert.Single(failures);
        Assert.Equal("Port 8200 for decode-0 (HTTP) is already in use by python3 (pid 4242); stop that process or choose another port with --Pd:Decode:BasePort=<port>.", failure);
    }

    [Fact]
    public void IsInUse_SeesARealListener_AndNotAFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var taken = ((IPEndPoint)listener.LocalEndpoint).Port;
        var free = FreePortAfterClosing();

        Assert.True(PdPortPreflight.IsInUse(taken));
        Assert.False(PdPortPreflight.IsInUse(free));
    }

    [Fact]
    public async Task AppHost_WithTheProxyPortTaken_ExitsWithCode1_NamingThePortItsHolderAndTheSetting()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var (exitCode, log) = await AppHostProcess.RunAsync("--Pd:Backend=simulator", $"--Pd:ProxyPort={port}");

        Assert.Equal(1, exitCode);
        Assert.Contains($"Port {port} for the proxy is already in use", log, StringComparison.Ordinal);
        if (OperatingSystem.IsLinux())
        {
            Assert.Contains($"(pid {Environment.ProcessId})", log, StringComparison.Ordinal);
        }

        Assert.Contains("--Pd:ProxyPort=<port>", log, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
    }

    private static int FreePortAfterClosing()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
