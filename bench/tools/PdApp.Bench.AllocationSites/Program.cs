using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Usage: PdApp.Bench.AllocationSites <trace.nettrace> <requests> [top]
// The trace holds the runtime's GCAllocationTick events (dotnet-trace collect --providers
// Microsoft-Windows-DotNETRuntime:0x1:5): one per ~100 KB allocated, naming the type that crossed the
// threshold and carrying the allocating call stack. Summed per type and per site (the type and its first
// managed frames outside the framework), divided by the requests served while the trace ran, they give
// where a process's bytes per request go; a row worth a few ticks is within sampling noise.
if (args.Length < 2 || !double.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out var requests) || requests <= 0)
{
    Console.Error.WriteLine("usage: PdApp.Bench.AllocationSites <trace.nettrace> <requests> [top]");
    return 2;
}

var top = args.Length > 2 && int.TryParse(args[2], out var n) ? n : 30;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>(StringComparer.Ordinal);
var bySite = new Dictionary<string, long>(StringComparer.Ordinal);
long total = 0, ticks = 0;
foreach (var traceEvent in log.Events)
{
    if (traceEvent is not GCAllocationTickTraceData tick)
    {
        continue;
    }

    ticks++;
    total += tick.AllocationAmount64;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + tick.AllocationAmount64;
    var site = string.Join(" <- ", Frames(traceEvent.CallStack()).Take(3));
    var key = $"{tick.TypeName} <- {site}";
    bySite[key] = bySite.GetValueOrDefault(key) + tick.AllocationAmount64;
}

Console.WriteLine($"{ticks} allocation ticks, {total / requests / 1024:F1} KiB per request ({requests} requests)");
Console.WriteLine();
Console.WriteLine("bytes/request  type");
foreach (var (type, bytes) in byType.OrderByDescending(p => p.Value).Take(top))
{
    Console.WriteLine($"{bytes / requests,13:F0}  {type}");
}

Console.WriteLine();
Console.WriteLine("bytes/request  type <- first frames outside System.* and Microsoft.Extensions.*");
foreach (var (key, bytes) in bySite.OrderByDescending(p => p.Value).Take(top))
{
    Console.WriteLine($"{bytes / requests,13:F0}  {key}");
}

return 0;

// The stack's managed frames from the allocation outwards, without the framework's own.
static IEnumerable<string> Frames(TraceCallStack? stack)
{
    for (; stack is not null; stack = stack.Caller)
    {
        var method = stack.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(method) || method.StartsWith("System.", StringComparison.Ordinal)
            || method.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal))
        {
            continue;
        }

        yield return method.Length > 100 ? method[..100] : method;
    }
}
