using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;

namespace PdApp.Tests.Simulator;

/// <summary>
/// With the engine's category at Debug, every request leaves one timing line (arrival in Unix time,
/// then admission, KV, prompt and first token in milliseconds after it): what bench/reliability.sh
/// reads to split a migration's stall.
/// </summary>
public sealed class SimulatorTimingLogTests
{
    [Fact]
    public async Task EngineAtDebug_LogsEachRequestsStepsInOrder()
    {
        var logs = new CapturingLoggerProvider();
        await using var simulator = await RunningSimulator.StartAsync(
            ["--time-to-first-token", "30", "--prefill-time-per-token", "0", "--inter-token-latency", "1"],
            environment: new Dictionary<string, string?> { ["Logging:LogLevel:PdApp.Simulator.Engine.CompletionEngine"] = "Debug" },
            configure: builder => builder.Logging.AddProvider(logs));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new { model = "dp7b", prompt = "Rivers of Europe:", max_tokens = 3, stream = true }),
        };
        request.Headers.Add(PdHeaders.RequestId, "timed-1");
        using var response = await simulator.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("[DONE]", body);
        var line = Assert.Single(logs.Logger.Lines, l => l.Message.StartsWith("Request timed-1 engine timing", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Debug, line.Level);
        var steps = new[] { "admitted", "prompt done", "first token written" }
            .Select(step => double.Parse(Regex.Match(line.Message, Regex.Escape(step) + " ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture))
            .ToList();
        Assert.Equal(steps.Order(), steps);
        // The 30 ms prompt wait is a timer, which .NET schedules on Linux's coarse monotonic clock (a tick of up to
        // 4 ms): measured with the precise clock of the log, it may end a few milliseconds early.
        Assert.True(steps[1] - steps[0] >= 25, line.Message);
        Assert.Matches("arrived at [0-9]{13}", line.Message);
    }

    [Fact]
    public async Task EngineAtInformation_LogsNoTimingLine()
    {
        var logs = new CapturingLoggerProvider();
        await using var simulator = await RunningSimulator.StartAsync(
            ["--time-to-first-token", "1", "--inter-token-latency", "1"], configure: builder => builder.Logging.AddProvider(logs));

        using var response = await simulator.Client.PostAsJsonAsync("/v1/completions", new { model = "dp7b", prompt = "Rivers", max_tokens = 2 });

        response.EnsureSuccessStatusCode();
        Assert.DoesNotContain(logs.Logger.Lines, l => l.Message.Contains("engine timing", StringComparison.Ordinal));
    }
}
