using System.Runtime.CompilerServices;

namespace PdApp.Tests;

/// <summary>Process-wide settings for the test run, applied before any test starts a host.</summary>
internal static class TestEnvironment
{
    /// <summary>
    /// The suite starts hundreds of in-process hosts (proxies, simulators, app models). Each would
    /// watch its appsettings files with an inotify instance, and Linux allows 128 per user by
    /// default: past that, host construction throws. Tests never edit configuration files, so
    /// reloading is switched off for every host the test process builds.
    /// </summary>
#pragma warning disable CA2255 // A module initializer is the one place that runs before every test class.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
        Environment.SetEnvironmentVariable("ASPNETCORE_hostBuilder__reloadConfigOnChange", "false");
    }
}
