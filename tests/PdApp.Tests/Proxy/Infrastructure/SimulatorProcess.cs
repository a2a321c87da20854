using System.Diagnostics;

namespace PdApp.Tests.Proxy.Infrastructure;

/// <summary>
/// A simulator in its own OS process (the test output's PdApp.Simulator.dll under <c>dotnet</c>),
/// so a test can kill it as a crash would: every connection is reset by the kernel.
/// </summary>
public sealed class SimulatorProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SimulatorProcess(Process process, string name, Uri baseAddress)
    {
        _process = process;
        Name = name;
        BaseAddress = baseAddress;
    }

    /// <summary>The instance name.</summary>
    public string Name { get; }

    /// <summary>Its base address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Starts the simulator and waits (bounded) until <c>/health</c> answers.</summary>
    /// <param name="name">The instance name.</param>
    /// <param name="extraArgs">More simulator flags.</param>
    /// <returns>The running process.</returns>
    public static async Task<SimulatorProcess> StartAsync(string name, params string[] extraArgs)
    {
        var port = PdApp.Tests.Simulator.RunningSimulator.FreePort();
        var dll = Path.Combine(AppContext.BaseDirectory, "PdApp.Simulator.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[dll, "serve", ProxyFixture.Model, "--host", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--instance-name", name, "--time-to-first-token", "5", "--prefill-time-per-token", "0.01", .. extraArgs])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var simulator = new SimulatorProcess(process, name, new Uri($"http://127.0.0.1:{port}/"));
        using var client = new HttpClient { BaseAddress = simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                if ((await client.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return simulator;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        await simulator.DisposeAsync();
        throw new TimeoutException($"Simulator {name} did not become healthy.");
    }

    /// <summary>Kills the process (SIGKILL), as a crashed engine.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
