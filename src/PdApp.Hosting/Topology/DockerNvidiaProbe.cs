using System.ComponentModel;
using System.Diagnostics;
using PdApp.Hosting.Containers;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Looks for a container runtime with NVIDIA GPUs: Docker with the NVIDIA runtime (<c>docker info</c> lists an
/// <c>nvidia</c> runtime), or a running Docker or Podman plus a working <c>nvidia-smi</c> (the NVIDIA Container
/// Toolkit's CDI mode, the only one Podman uses, registers no runtime). Each command is bounded by
/// <see cref="CommandTimeout"/>; a missing command counts as "not found".
/// </summary>
public sealed class DockerNvidiaProbe : IGpuContainerRuntimeProbe
{
    /// <summary>The longest one probing command may run.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The runtime to probe (the app host passes the one Aspire is configured with); default Docker.</summary>
    public ContainerRuntimeKind Runtime { get; init; } = ContainerRuntimeKind.Docker;

    /// <inheritdoc/>
    public async Task<GpuRuntimeProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var (command, format) = Runtime == ContainerRuntimeKind.Podman
            ? ("podman", "{{.Host.OCIRuntime.Name}}")
            : ("docker", "{{json .Runtimes}}");
        var info = await RunAsync(command, ["info", "--format", format], cancellationToken).ConfigureAwait(false);
        if (info.ExitCode != 0)
        {
            return new(false, $"no usable container runtime ('{command} info': {info.Describe()})");
        }

        if (Runtime == ContainerRuntimeKind.Docker && info.Output.Contains("nvidia", StringComparison.OrdinalIgnoreCase))
        {
            return new(true, "docker info lists the nvidia runtime");
        }

        var smi = await RunAsync("nvidia-smi", ["-L"], cancellationToken).ConfigureAwait(false);
        return smi.ExitCode == 0 && smi.Output.Contains("GPU", StringComparison.Ordinal)
            ? new(true, $"{command} is running and nvidia-smi lists GPUs")
            : new(false, $"{command} is running but has no NVIDIA GPUs ('nvidia-smi -L': {smi.Describe()})");
    }

    private async Task<CommandResult> RunAsync(string fileName, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        }
        catch (Win32Exception)
        {
            return new(-1, string.Empty, "not installed");
        }

        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CommandTimeout);
            try
            {
                var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                var error = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                return new(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                return new(-1, string.Empty, $"timed out after {CommandTimeout.TotalSeconds:0.#} s");
            }
        }
    }

    private sealed record CommandResult(int ExitCode, string Output, string Error)
    {
        public string Describe()
        {
            var text = string.IsNullOrWhiteSpace(Error) ? $"exit code {ExitCode}" : Error.Trim();
            return text.Length > 160 ? text[..160] + "..." : text;
        }
    }
}
