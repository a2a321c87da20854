using System.Globalization;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Names the process listening on a TCP port, where the operating system lets us see it (Linux
/// <c>/proc</c>: the listening socket's inode in <c>/proc/net/tcp{,6}</c>, then the process holding
/// that socket). Best effort: null when unknown (another user's process, another OS).
/// </summary>
internal static class PortHolderLookup
{
    private const string ListenState = "0A";

    /// <summary>E.g. <c>python3 (pid 4242)</c>, or null when the holder cannot be seen.</summary>
    public static string? Describe(int port)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var inodes = ListeningInodes(port);
            return inodes.Count == 0 ? null : FindProcess(inodes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static HashSet<string> ListeningInodes(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        var portHex = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == ListenState && fields[1].EndsWith(portHex, StringComparison.OrdinalIgnoreCase))
                {
                    inodes.Add(fields[9]);
                }
            }
        }

        return inodes;
    }

    private static string? FindProcess(HashSet<string> inodes)
    {
        foreach (var processDirectory in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(processDirectory);
            if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(processDirectory, "fd")))
                {
                    var target = new FileInfo(fd).LinkTarget;
                    if (target is { Length: > 9 } && target.StartsWith("socket:[", StringComparison.Ordinal) && inodes.Contains(target[8..^1]))
                    {
                        var name = File.ReadAllText(Path.Combine(processDirectory, "comm")).Trim();
                        return $"{name} (pid {pid})";
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another user's process, or one that just exited.
            }
        }

        return null;
    }
}
