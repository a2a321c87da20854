// Concurrent-stream load for the PD simulator (or any OpenAI-compatible server).
// Usage: dotnet run bench/simulator/streams.cs -- <base url> <streams> <tokens per stream>
// Opens every stream at once, reads each SSE stream to [DONE], prints wall time and TTFT/stream percentiles.
using System.Diagnostics;
using System.Text;

if (args.Length != 3 || !int.TryParse(args[1], out var streams) || !int.TryParse(args[2], out var tokens))
{
    Console.Error.WriteLine("usage: streams.cs <base url> <streams> <tokens per stream>");
    return 2;
}

using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = streams })
{
    BaseAddress = new Uri(args[0]),
    Timeout = TimeSpan.FromMinutes(5),
};
var ttft = new double[streams];
var total = new double[streams];
var chunks = new int[streams];
var clock = Stopwatch.StartNew();

async Task RunAsync(int i)
{
    var body = $$"""{"prompt":"stream {{i}}","max_tokens":{{tokens}},"stream":true}""";
    var start = clock.Elapsed.TotalMilliseconds;
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    while (await reader.ReadLineAsync() is { } line)
    {
        if (line.StartsWith("data: {", StringComparison.Ordinal) && chunks[i]++ == 0)
        {
            ttft[i] = clock.Elapsed.TotalMilliseconds - start;
        }
    }

    total[i] = clock.Elapsed.TotalMilliseconds - start;
}

await Task.WhenAll(Enumerable.Range(0, streams).Select(i => Task.Run(() => RunAsync(i))));
Array.Sort(ttft);
Array.Sort(total);
Console.WriteLine(
    $"{streams} streams x {tokens} tokens: wall {clock.Elapsed.TotalSeconds:F2} s, complete {chunks.Count(c => c == tokens)}/{streams}, " +
    $"TTFT p50 {ttft[streams / 2]:F0} ms p99 {ttft[streams * 99 / 100]:F0} ms, stream p50 {total[streams / 2]:F0} ms p99 {total[streams * 99 / 100]:F0} ms");
return chunks.All(c => c == tokens) ? 0 : 1;
