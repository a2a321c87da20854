using PdApp.Protocol;

namespace PdApp.Tests.Proxy.Infrastructure;

/// <summary>
/// Command-line settings for a proxy built in-process (<c>ProxyApp.Create</c>) to inspect its host or
/// services: one prefill and one decode instance at addresses nothing listens on, no health probes or
/// load scrapes, no drain delay on shutdown.
/// </summary>
internal static class StandaloneProxySettings
{
    /// <summary>The settings, for SharedStorage on an ephemeral loopback port.</summary>
    /// <returns>A new array (callers append their own).</returns>
    public static string[] Create() =>
    [
        "--urls=http://127.0.0.1:0",
        $"--{PdProxySettings.Connector}={KvConnectorNames.SharedStorage}",
        "--Logging:LogLevel:Default=Warning",
        "--Pd:Proxy:Health:Enabled=false",
        "--Pd:Proxy:LoadScrape:Enabled=false",
        "--Pd:Proxy:ShutdownDrainDelaySeconds=0",
        $"--{PdProxySettings.Instances}:0:Name=prefill-0",
        $"--{PdProxySettings.Instances}:0:Role=Prefill",
        $"--{PdProxySettings.Instances}:0:Address=http://127.0.0.1:1",
        $"--{PdProxySettings.Instances}:1:Name=decode-0",
        $"--{PdProxySettings.Instances}:1:Role=Decode",
        $"--{PdProxySettings.Instances}:1:Address=http://127.0.0.1:2",
    ];
}
